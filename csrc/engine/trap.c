/* engine/trap.c: the trap reasons of engine.h - one constant string per wasm trap, which every
 * engine returns (so callers compare pointers and the messages are the same on every tier),
 * and the sentinels the imports (kernel, WASI, host functions) return to stop the guest, whose
 * detail text their own context keeps.
 * May call: nothing. */
#include "engine/engine.h"

const char exn_trap_unreachable[] = "[trap] unreachable executed";
const char exn_trap_memory_oob[] = "[trap] out of bounds memory access";
const char exn_trap_table_oob[] = "[trap] out of bounds table access";
const char exn_trap_undefined_element[] = "[trap] undefined element";
const char exn_trap_null_element[] = "[trap] null table element";
const char exn_trap_indirect_type[] = "[trap] indirect call type mismatch";
const char exn_trap_div_zero[] = "[trap] integer divide by zero";
const char exn_trap_int_overflow[] = "[trap] integer overflow";
const char exn_trap_conversion[] = "[trap] invalid conversion to integer";
const char exn_trap_stack_overflow[] = "[trap] stack overflow";
const char exn_trap_interrupted[] = "[trap] interrupted";
const char exn_trap_fuel[] = "[trap] all fuel consumed";

const char exn_trap_kernel[] = "[kernel]";
const char exn_trap_host[] = "[host function failed]";
const char exn_trap_exit[] = "[exit]";
const char exn_trap_http[] = "[http]";

bool exn_trap_is_wasm(exn_trap_t t)
{
    return t == exn_trap_unreachable || t == exn_trap_memory_oob || t == exn_trap_table_oob ||
           t == exn_trap_undefined_element || t == exn_trap_null_element ||
           t == exn_trap_indirect_type || t == exn_trap_div_zero || t == exn_trap_int_overflow ||
           t == exn_trap_conversion || t == exn_trap_stack_overflow || t == exn_trap_interrupted ||
           t == exn_trap_fuel;
}

bool exn_trap_is_import(exn_trap_t t)
{
    return t == exn_trap_kernel || t == exn_trap_host || t == exn_trap_exit || t == exn_trap_http;
}
