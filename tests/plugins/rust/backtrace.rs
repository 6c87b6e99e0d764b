// backtrace.rs: a no_std Rust plugin whose traps unwind named Rust functions, for the wasm
// backtrace tests (tests/unit/test_backtrace.py).  Built without stripping symbols, so the
// module keeps its "name" section (legacy-mangled Rust names) and rustc's "producers" section.
// Every export is `fn() -> i32`; the input picks the depth or the kind of fault.
#![no_std]

#[path = "pdk.rs"]
mod pdk;

#[panic_handler]
fn on_panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

/// the value, through a volatile read the optimiser cannot see through (black_box is unstable
/// in rustc 1.63)
#[inline(always)]
fn opaque<T: Copy>(x: T) -> T {
    unsafe { core::ptr::read_volatile(&x) }
}

pub trait Shape {
    fn area(&self, scale: u32) -> u32;
}

pub struct Square(pub u32);

impl Shape for Square {
    #[inline(never)]
    fn area(&self, scale: u32) -> u32 {
        // a divide by zero when scale is 0: the panic handler traps
        self.0 * self.0 / scale
    }
}

pub mod geometry {
    /// generic, so its symbol carries `$LT$`/`$GT$` escapes after demangling
    #[inline(never)]
    pub fn measure<S: super::Shape>(shape: &S, scale: u32) -> u32 {
        super::opaque(shape.area(scale))
    }
}

#[inline(never)]
fn recurse(depth: u64) -> u64 {
    if depth == 0 {
        core::arch::wasm32::unreachable()
    }
    opaque(recurse(opaque(depth - 1))) + 1
}

#[inline(never)]
fn outer_level(n: u64) -> u32 {
    let square = Square(opaque(3));
    let scale = opaque(n as u32);
    geometry::measure(&square, scale)
}

/// panics (divide by zero) inside <Square as Shape>::area <- geometry::measure <- outer_level
/// when the input is empty; returns 0 otherwise
#[no_mangle]
pub extern "C" fn divide() -> i32 {
    let n = unsafe { pdk::input_length() };
    opaque(outer_level(n));
    0
}

/// `unreachable` after `input length` nested calls of recurse
#[no_mangle]
pub extern "C" fn nested() -> i32 {
    let n = unsafe { pdk::input_length() };
    opaque(recurse(n));
    0
}

/// a closure that panics through core::panicking
#[no_mangle]
pub extern "C" fn closure() -> i32 {
    let n = unsafe { pdk::input_length() };
    let check = |x: u64| {
        if x < 100 {
            panic!("too small");
        }
        x
    };
    opaque(check(opaque(n)));
    0
}
