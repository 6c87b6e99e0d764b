//! wasi_std.rs: a WASI command written against Rust's std for wasm32-wasi (no crates), for
//! tests/wasi.  args[1] picks what it does (as wasi_cmd.c); it reports on stdout, one line per
//! step, and exits with a status.  io::Error::raw_os_error() is the WASI errno.
//!
//!   files DIR      std::fs: write, read, seek, metadata, set_len, sync, read_dir, rename,
//!                  soft_link, read_link, hard_link, remove_file, create_dir, remove_dir
//!   clock          SystemTime, Instant, thread::sleep(30 ms)
//!   random         random_get (imported directly: std has no public API for it)
//!   env            env::args and env::vars
//!   stdin          copies stdin to stdout, upper-cased
//!   stdio          println! and eprintln!
//!   exit N         process::exit(N)
//!   escape MOUNT   escape attempts through std::fs; prints "name errno" for each
//!   race PATH N    reads PATH N times: prints how often each outcome happened

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[link(wasm_import_module = "wasi_snapshot_preview1")]
extern "C" {
    fn random_get(buf: *mut u8, len: usize) -> u16;
}

fn check(what: &str, ok: bool) -> u32 {
    println!("{} {}", what, if ok { "ok" } else { "FAILED" });
    if ok {
        0
    } else {
        1
    }
}

fn result<T>(what: &str, r: io::Result<T>) -> u32 {
    match r {
        Ok(_) => check(what, true),
        Err(e) => {
            println!("{} FAILED {:?}", what, e.raw_os_error());
            1
        }
    }
}

fn list(dir: &str) {
    match fs::read_dir(dir) {
        Ok(entries) => {
            let mut names: Vec<String> = entries
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            names.sort();
            println!("list {}", names.join(" "));
        }
        Err(e) => println!("list errno {:?}", e.raw_os_error()),
    }
}

fn files(dir: &str) -> u32 {
    let a = format!("{}/a.txt", dir);
    let mut bad = 0;
    bad += result("write", fs::write(&a, b"hello world"));
    bad += check("read", fs::read_to_string(&a).ok().as_deref() == Some("hello world"));
    let mut f = OpenOptions::new().read(true).write(true).open(&a).unwrap();
    let mut buf = [0u8; 5];
    bad += check("seek", f.seek(SeekFrom::Start(6)).ok() == Some(6));
    bad += check("read at", f.read_exact(&mut buf).is_ok() && &buf == b"world");
    bad += check("seek end", f.seek(SeekFrom::End(-5)).ok() == Some(6));
    bad += check("overwrite", f.write_all(b"WORLD").is_ok());
    bad += result("sync", f.sync_all());
    bad += check("metadata", f.metadata().map(|m| m.len() == 11 && m.is_file()).unwrap_or(false));
    bad += result("set_len", f.set_len(20));
    bad += check("grown", fs::metadata(&a).map(|m| m.len()).ok() == Some(20));
    bad += result("set_len back", f.set_len(11));
    drop(f);
    let mut f = OpenOptions::new().append(true).open(&a).unwrap();
    bad += result("append", f.write_all(b"!"));
    drop(f);
    bad += check("content", fs::read(&a).ok().as_deref() == Some(&b"hello WORLD!"[..]));
    let modified = fs::metadata(&a).and_then(|m| m.modified());
    bad += check("mtime", modified.map(|t| t > UNIX_EPOCH).unwrap_or(false));
    let sub = format!("{}/sub", dir);
    bad += result("create_dir", fs::create_dir(&sub));
    bad += check("create_dir again",
                 fs::create_dir(&sub).err().and_then(|e| e.raw_os_error()) == Some(20));
    let b = format!("{}/b.txt", sub);
    bad += result("rename", fs::rename(&a, &b));
    bad += check("gone", fs::metadata(&a).is_err());
    let ln = format!("{}/ln", dir);
    #[allow(deprecated)]
    let linked = fs::soft_link("sub/b.txt", &ln);
    bad += result("soft_link", linked);
    bad += check("read_link",
                 fs::read_link(&ln).ok().map(|p| p.to_str().unwrap().to_string()).as_deref()
                     == Some("sub/b.txt"));
    bad += check("through link", fs::read(&ln).ok().as_deref() == Some(&b"hello WORLD!"[..]));
    bad += check("symlink_metadata",
                 fs::symlink_metadata(&ln).map(|m| m.file_type().is_symlink()).unwrap_or(false));
    let hard = format!("{}/hard", dir);
    bad += result("hard_link", fs::hard_link(&b, &hard));
    list(dir);
    list(&sub);
    bad += check("remove_dir non-empty",
                 fs::remove_dir(&sub).err().and_then(|e| e.raw_os_error()) == Some(55));
    bad += result("remove_file", fs::remove_file(&b));
    bad += result("remove_file link", fs::remove_file(&ln));
    bad += result("remove_file hard", fs::remove_file(&hard));
    bad += result("remove_dir", fs::remove_dir(&sub));
    bad += result("create_dir_all", fs::create_dir_all(format!("{}/x/y/z", dir)));
    bad += result("remove_dir_all", fs::remove_dir_all(format!("{}/x", dir)));
    list(dir);
    bad
}

fn clock() -> u32 {
    let mut bad = 0;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    bad += check("realtime", now.as_secs() > 1_600_000_000);
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_millis(30));
    let slept = t0.elapsed();
    bad += check("slept 30 ms", slept >= Duration::from_millis(30));
    bad += check("monotonic", Instant::now() >= t0);
    bad
}

fn random() -> u32 {
    let mut a = [0u8; 32];
    let mut b = [0u8; 32];
    let ok = unsafe { random_get(a.as_mut_ptr(), 32) == 0 && random_get(b.as_mut_ptr(), 32) == 0 };
    check("random_get", ok) + check("different", a != b && a != [0u8; 32])
}

fn env() -> u32 {
    let args: Vec<String> = std::env::args().collect();
    println!("argc {}", args.len());
    for (i, a) in args.iter().enumerate() {
        println!("argv[{}] {}", i, a);
    }
    for (k, v) in std::env::vars() {
        println!("env {}={}", k, v);
    }
    println!("FOO {}", std::env::var("FOO").unwrap_or_else(|_| "(unset)".to_string()));
    0
}

fn copy_stdin() -> u32 {
    let mut data = Vec::new();
    io::stdin().read_to_end(&mut data).unwrap();
    let upper: Vec<u8> = data.iter().map(|c| c.to_ascii_uppercase()).collect();
    io::stdout().write_all(&upper).unwrap();
    println!("\n{} bytes", data.len());
    0
}

/// "name errno": 0 if it worked, -1 (and the error kind) for an error without an errno
fn attempt<T>(name: &str, r: io::Result<T>) {
    match r {
        Ok(_) => println!("{} 0", name),
        Err(e) => match e.raw_os_error() {
            Some(errno) => println!("{} {}", name, errno),
            None => println!("{} -1 {:?}", name, e.kind()),
        },
    }
}

fn escape(m: &str) -> u32 {
    let p = |s: &str| format!("{}/{}", m, s);
    attempt("dotdot", File::open(p("../outside/secret")));
    attempt("dotdot_deep", File::open(p("sub/../../outside/secret")));
    attempt("link_out", File::open(p("link_out/secret")));
    attempt("abs_link", File::open(p("abs_link")));
    attempt("chain", File::open(p("chain/secret")));
    attempt("loop", File::open(p("loop_a")));
    attempt("stat_out", fs::metadata(p("link_out/secret")));
    attempt("read_dir_up", fs::read_dir(p("..")));
    attempt("mkdir_out", fs::create_dir(p("../outside/new")));
    attempt("create_out", File::create(p("link_out/new")));
    attempt("create_via_dangling_out", File::create(p("dangling_out")));
    attempt("rename_out", fs::rename(p("file"), p("../outside/moved")));
    attempt("rename_in", fs::rename(p("link_out/secret"), p("stolen")));
    attempt("link_out_file", fs::hard_link(p("link_out/secret"), p("hard")));
    attempt("unlink_out", fs::remove_file(p("link_out/secret")));
    #[allow(deprecated)]
    let abs = fs::soft_link("/etc/passwd", p("new_abs"));
    attempt("symlink_abs", abs);
    attempt("long_path", File::open(format!("{}/{}", m, "a/".repeat(2300))));
    attempt("long_name", File::open(p(&"a".repeat(300))));
    attempt("nul", File::open(p("fi\0le")));
    attempt("read_link_abs", fs::read_link(p("abs_link")));
    0
}

fn race(path: &str, n: u32) -> u32 {
    let (mut inside, mut refused, mut leaked, mut other) = (0, 0, 0, 0);
    for _ in 0..n {
        match fs::read(path) {
            Ok(data) if data.starts_with(b"inside") => inside += 1,
            Ok(data) if data.starts_with(b"SECRET") => leaked += 1,
            Err(e) if e.raw_os_error() == Some(63) => refused += 1,
            _ => other += 1,
        }
    }
    println!("inside {} refused {} leaked {} other {}", inside, refused, leaked, other);
    if leaked > 0 {
        1
    } else {
        0
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| args.get(i).map(|s| s.as_str()).unwrap_or("");
    let status = match arg(1) {
        "files" => files(arg(2)).min(1),
        "clock" => clock().min(1),
        "random" => random().min(1),
        "env" => env(),
        "stdin" => copy_stdin(),
        "stdio" => {
            println!("to stdout");
            eprintln!("to stderr");
            0
        }
        "exit" => {
            println!("exiting with {}", arg(2));
            io::stdout().flush().unwrap();
            std::process::exit(arg(2).parse().unwrap());
        }
        "escape" => escape(arg(2)),
        "race" => race(arg(2), arg(3).parse().unwrap()),
        _ => {
            eprintln!("usage: wasi_std files|clock|random|env|stdin|stdio|exit|escape|race");
            2
        }
    };
    std::process::exit(status as i32);
}
