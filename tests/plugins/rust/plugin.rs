// plugin.rs: a no_std Rust plugin for tests (rustc 1.63, wasm32-unknown-unknown), built with
// our kit (pdk.rs).  Every export is `fn() -> i32` returning 0 on success.
#![no_std]

#[path = "pdk.rs"]
mod pdk;

use pdk::Buf;

#[panic_handler]
fn on_panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

static mut SCRATCH: Buf<65536> = Buf::new();

fn scratch() -> &'static mut Buf<65536> {
    unsafe {
        SCRATCH.len = 0;
        &mut SCRATCH
    }
}

#[no_mangle]
pub extern "C" fn noop() -> i32 {
    0
}

/// output = input, copied 8 bytes at a time from input to the output block
#[no_mangle]
pub extern "C" fn echo() -> i32 {
    unsafe {
        let n = pdk::input_length();
        let h = pdk::alloc(n);
        let mut i = 0;
        while i + 8 <= n {
            pdk::store_u64(h + i, pdk::input_load_u64(i));
            i += 8;
        }
        while i < n {
            pdk::store_u8(h + i, pdk::input_load_u8(i));
            i += 1;
        }
        pdk::output_set(h, n);
    }
    0
}

/// output = the input's bytes in reverse order
#[no_mangle]
pub extern "C" fn reverse() -> i32 {
    let n = unsafe { pdk::input_length() };
    unsafe {
        let h = pdk::alloc(n);
        for i in 0..n {
            pdk::store_u8(h + n - 1 - i, pdk::input_load_u8(i));
        }
        pdk::output_set(h, n);
    }
    0
}

/// {"count":N,"total":T,"vowels":"V"} as the C plugin's count_vowels
#[no_mangle]
pub extern "C" fn count_vowels() -> i32 {
    let mut vowels: Buf<256> = Buf::new();
    if !pdk::config(b"vowels", &mut vowels) {
        vowels.push_str(b"aeiouAEIOU");
    }
    let mut count = 0u64;
    pdk::for_each_input_byte(|b| {
        if vowels.as_slice().contains(&b) {
            count += 1;
        }
    });
    let mut total_text: Buf<32> = Buf::new();
    let mut total = 0u64;
    if pdk::var(b"total", &mut total_text) {
        for &d in total_text.as_slice() {
            total = total * 10 + (d - b'0') as u64;
        }
    }
    total += count;
    let mut t: Buf<32> = Buf::new();
    t.push_u64(total);
    pdk::set_var(b"total", t.as_slice());
    let out = scratch();
    out.push_str(b"{\"count\":");
    out.push_u64(count);
    out.push_str(b",\"total\":");
    out.push_u64(total);
    out.push_str(b",\"vowels\":\"");
    out.push_str(vowels.as_slice());
    out.push_str(b"\"}");
    pdk::output(out.as_slice());
    0
}

/// "<G>, <input>!" with G = config "greeting" or Hello
#[no_mangle]
pub extern "C" fn greet() -> i32 {
    let mut greeting: Buf<256> = Buf::new();
    if !pdk::config(b"greeting", &mut greeting) {
        greeting.push_str(b"Hello");
    }
    let out = scratch();
    out.push_str(greeting.as_slice());
    out.push_str(b", ");
    pdk::for_each_input_byte(|b| out.push(b));
    out.push(b'!');
    pdk::output(out.as_slice());
    0
}

/// error "rust failure: <input>", returns 1
#[no_mangle]
pub extern "C" fn fail() -> i32 {
    let out = scratch();
    out.push_str(b"rust failure: ");
    pdk::for_each_input_byte(|b| out.push(b));
    pdk::fail(out.as_slice())
}

/// a Rust panic: the guest traps
#[no_mangle]
pub extern "C" fn panic() -> i32 {
    let n = unsafe { pdk::input_length() };
    if n < 1000 {
        panic!("input too short");
    }
    0
}

/// "<level>: <input>" at every level the host lets through; outputs how many were sent
#[no_mangle]
pub extern "C" fn log() -> i32 {
    let names: [&[u8]; 5] = [b"trace", b"debug", b"info", b"warn", b"error"];
    let mut sent = 0u64;
    for level in pdk::TRACE..=pdk::ERROR {
        let msg = scratch();
        msg.push_str(names[level as usize]);
        msg.push_str(b": ");
        pdk::for_each_input_byte(|b| msg.push(b));
        if pdk::log(level, msg.as_slice()) {
            sent += 1;
        }
    }
    let mut out: Buf<32> = Buf::new();
    out.push_u64(sent);
    pdk::output(out.as_slice());
    0
}

/// var "counter" holds a little-endian u64: increment it, output the new value in decimal
#[no_mangle]
pub extern "C" fn counter() -> i32 {
    let mut raw: Buf<8> = Buf::new();
    pdk::var(b"counter", &mut raw);
    let mut bytes = [0u8; 8];
    bytes[..raw.len].copy_from_slice(raw.as_slice());
    let value = u64::from_le_bytes(bytes) + 1;
    pdk::set_var(b"counter", &value.to_le_bytes());
    let mut out: Buf<32> = Buf::new();
    out.push_u64(value);
    pdk::output(out.as_slice());
    0
}

/// input: decimal sizes separated by ','; each block must have length == length_unsafe ==
/// size and read as zeros when fresh
#[no_mangle]
pub extern "C" fn lengths() -> i32 {
    let mut sizes = [0u64; 64];
    let mut n = 0;
    let mut current = 0u64;
    let mut digits = false;
    pdk::for_each_input_byte(|b| {
        if b == b',' {
            if digits && n < 64 {
                sizes[n] = current;
                n += 1;
            }
            current = 0;
            digits = false;
        } else if b.is_ascii_digit() {
            current = current * 10 + (b - b'0') as u64;
            digits = true;
        }
    });
    if digits && n < 64 {
        sizes[n] = current;
        n += 1;
    }
    for &size in &sizes[..n] {
        unsafe {
            let h = pdk::alloc(size);
            if pdk::length(h) != size || pdk::length_unsafe(h) != size {
                let msg = scratch();
                msg.push_str(b"length mismatch for size ");
                msg.push_u64(size);
                return pdk::fail(msg.as_slice());
            }
            for i in 0..size {
                if pdk::load_u8(h + i) != 0 {
                    let msg = scratch();
                    msg.push_str(b"fresh block not zero at ");
                    msg.push_u64(i);
                    return pdk::fail(msg.as_slice());
                }
            }
            pdk::free(h);
        }
    }
    pdk::output(b"ok");
    0
}

/// input: little-endian u64s; output their wrapping sum in decimal
#[no_mangle]
pub extern "C" fn sum_u64() -> i32 {
    let n = unsafe { pdk::input_length() };
    if n % 8 != 0 {
        return pdk::fail(b"input length is not a multiple of 8");
    }
    let mut sum = 0u64;
    let mut i = 0;
    while i < n {
        sum = sum.wrapping_add(unsafe { pdk::input_load_u64(i) });
        i += 8;
    }
    let mut out: Buf<32> = Buf::new();
    out.push_u64(sum);
    pdk::output(out.as_slice());
    0
}

/// output = input, read through input_offset() + load_u64 (C-PDK style)
#[no_mangle]
pub extern "C" fn input_offset_echo() -> i32 {
    unsafe {
        let src = pdk::input_offset();
        let n = pdk::length(src);
        let h = pdk::alloc(n);
        let mut i = 0;
        while i + 8 <= n {
            pdk::store_u64(h + i, pdk::load_u64(src + i));
            i += 8;
        }
        while i < n {
            pdk::store_u8(h + i, pdk::load_u8(src + i));
            i += 1;
        }
        pdk::output_set(h, n);
    }
    0
}
