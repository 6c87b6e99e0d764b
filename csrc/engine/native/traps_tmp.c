/* traps_tmp.c: THROWAWAY - engine.h's trap constants, until branch arch (H1) defines them with
 * the engine interface; removed when it is merged. */
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

bool exn_trap_is_wasm(exn_trap_t t)
{
    return t == exn_trap_unreachable || t == exn_trap_memory_oob || t == exn_trap_table_oob ||
           t == exn_trap_undefined_element || t == exn_trap_null_element ||
           t == exn_trap_indirect_type || t == exn_trap_div_zero || t == exn_trap_int_overflow ||
           t == exn_trap_conversion || t == exn_trap_stack_overflow ||
           t == exn_trap_interrupted || t == exn_trap_fuel;
}
