// pdk.rs: a minimal kit for no_std Rust plugins (rustc 1.63, wasm32-unknown-unknown, no heap).
// It uses the kernel the way the official Rust PDK does: input in 8-byte chunks through
// input_load_u64 plus input_load_u8 for the tail, returned blocks measured with length_unsafe,
// output written with alloc + store_u64 chunks + output_set, logs sent only when
// level >= get_log_level() (and never when logging is off), errors through error_set + rc 1.

pub type Handle = u64;

#[link(wasm_import_module = "extism:host/env")]
extern "C" {
    pub fn alloc(n: u64) -> Handle;
    pub fn free(h: Handle);
    pub fn length(h: Handle) -> u64;
    pub fn length_unsafe(h: Handle) -> u64;
    pub fn load_u8(addr: Handle) -> u8;
    pub fn load_u64(addr: Handle) -> u64;
    pub fn store_u8(addr: Handle, byte: u8);
    pub fn store_u64(addr: Handle, value: u64);
    pub fn input_length() -> u64;
    pub fn input_load_u8(offset: u64) -> u8;
    pub fn input_load_u64(offset: u64) -> u64;
    pub fn input_offset() -> Handle;
    pub fn output_set(h: Handle, len: u64);
    pub fn error_set(h: Handle);
    pub fn config_get(key: Handle) -> Handle;
    pub fn var_get(key: Handle) -> Handle;
    pub fn var_set(key: Handle, value: Handle);
    pub fn log_trace(msg: Handle);
    pub fn log_debug(msg: Handle);
    pub fn log_info(msg: Handle);
    pub fn log_warn(msg: Handle);
    pub fn log_error(msg: Handle);
    pub fn get_log_level() -> i32;
}

/// A fixed-capacity byte buffer (there is no heap).
pub struct Buf<const N: usize> {
    pub data: [u8; N],
    pub len: usize,
}

impl<const N: usize> Buf<N> {
    pub const fn new() -> Self {
        Buf { data: [0; N], len: 0 }
    }
    pub fn push(&mut self, b: u8) {
        if self.len < N {
            self.data[self.len] = b;
            self.len += 1;
        }
    }
    pub fn push_str(&mut self, s: &[u8]) {
        for &b in s {
            self.push(b);
        }
    }
    pub fn push_u64(&mut self, mut v: u64) {
        let mut digits = [0u8; 20];
        let mut n = 0;
        loop {
            digits[n] = b'0' + (v % 10) as u8;
            n += 1;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        while n > 0 {
            n -= 1;
            self.push(digits[n]);
        }
    }
    pub fn as_slice(&self) -> &[u8] {
        &self.data[..self.len]
    }
}

/// Byte i of the input (the tail of the PDK's chunked read).
pub fn input_byte(i: u64) -> u8 {
    unsafe { input_load_u8(i) }
}

/// Calls f on every input byte, reading 8 bytes at a time as the Rust PDK does.
pub fn for_each_input_byte(mut f: impl FnMut(u8)) {
    let n = unsafe { input_length() };
    let mut i = 0;
    while i + 8 <= n {
        let word = unsafe { input_load_u64(i) };
        for b in word.to_le_bytes() {
            f(b);
        }
        i += 8;
    }
    while i < n {
        f(input_byte(i));
        i += 1;
    }
}

/// A new block holding the bytes.
pub fn block(data: &[u8]) -> Handle {
    if data.is_empty() {
        return 0;
    }
    unsafe {
        let h = alloc(data.len() as u64);
        let mut i = 0;
        while i + 8 <= data.len() {
            let mut w = [0u8; 8];
            w.copy_from_slice(&data[i..i + 8]);
            store_u64(h + i as u64, u64::from_le_bytes(w));
            i += 8;
        }
        while i < data.len() {
            store_u8(h + i as u64, data[i]);
            i += 1;
        }
        h
    }
}

/// Copy a block into buf (up to its capacity); returns the block's length.
pub fn read_block<const N: usize>(h: Handle, buf: &mut Buf<N>) -> u64 {
    if h == 0 {
        return 0;
    }
    let n = unsafe { length_unsafe(h) };
    for i in 0..n {
        buf.push(unsafe { load_u8(h + i) });
    }
    n
}

pub fn output(data: &[u8]) {
    unsafe { output_set(block(data), data.len() as u64) }
}

pub fn fail(message: &[u8]) -> i32 {
    unsafe { error_set(block(message)) };
    1
}

pub fn config<const N: usize>(key: &[u8], buf: &mut Buf<N>) -> bool {
    let h = unsafe { config_get(block(key)) };
    read_block(h, buf);
    h != 0
}

pub fn var<const N: usize>(key: &[u8], buf: &mut Buf<N>) -> bool {
    let h = unsafe { var_get(block(key)) };
    read_block(h, buf);
    h != 0
}

pub fn set_var(key: &[u8], value: &[u8]) {
    unsafe { var_set(block(key), block(value)) }
}

pub const TRACE: i32 = 0;
pub const ERROR: i32 = 4;

/// Log at `level` if the host wants it (the Rust PDK's rule); returns whether it was sent.
pub fn log(level: i32, message: &[u8]) -> bool {
    let threshold = unsafe { get_log_level() };
    if threshold == i32::MAX || level < threshold {
        return false;
    }
    let h = block(message);
    unsafe {
        match level {
            0 => log_trace(h),
            1 => log_debug(h),
            2 => log_info(h),
            3 => log_warn(h),
            _ => log_error(h),
        }
    }
    true
}
