// big.rs: a large plugin for benchmarks (creation time, RSS per instance): Rust std compiled
// for wasm32-wasi without optimisation pulls in formatting, collections, unicode tables and
// more - about 2 MB of wasm, like real-world Rust plugins.  It talks to Extism through its own
// declarations of the kernel imports.
#![allow(clippy::all)]
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fmt::Write;

#[link(wasm_import_module = "extism:host/env")]
extern "C" {
    fn input_length() -> u64;
    fn input_load_u8(offset: u64) -> u8;
    fn alloc(n: u64) -> u64;
    fn store_u8(addr: u64, byte: u8);
    fn output_set(addr: u64, len: u64);
}

fn input() -> Vec<u8> {
    unsafe { (0..input_length()).map(|i| input_load_u8(i)).collect() }
}

fn output(data: &[u8]) {
    unsafe {
        let h = alloc(data.len() as u64);
        for (i, b) in data.iter().enumerate() {
            store_u8(h + i as u64, *b);
        }
        output_set(h, data.len() as u64);
    }
}

#[no_mangle]
pub extern "C" fn noop() -> i32 {
    0
}

#[no_mangle]
pub extern "C" fn summarize() -> i32 {
    let text = String::from_utf8_lossy(&input()).to_string();
    let mut words: HashMap<String, usize> = HashMap::new();
    let mut sorted: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let mut seen = HashSet::new();
    let mut queue: VecDeque<char> = text.chars().collect();
    let mut upper = 0usize;
    while let Some(c) = queue.pop_front() {
        if c.is_uppercase() {
            upper += 1;
        }
        seen.insert(c.to_lowercase().to_string());
    }
    for w in text.split_whitespace() {
        *words.entry(w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase()).or_default() += 1;
    }
    for (w, n) in &words {
        sorted.entry(*n).or_default().push(w.clone());
    }
    let mut out = String::new();
    let _ = write!(out, "{{\"words\":{},\"distinct\":{},\"upper\":{},\"chars\":{},\"top\":{:?}}}",
                   words.values().sum::<usize>(), words.len(), upper, seen.len(),
                   sorted.iter().rev().next().map(|(n, ws)| (*n, ws.len())).unwrap_or((0, 0)));
    output(out.as_bytes());
    0
}

fn main() {}
