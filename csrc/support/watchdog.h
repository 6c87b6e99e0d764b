/* watchdog.h: deadlines for plugin calls.  One process-wide thread sleeps until the earliest
 * armed deadline and then sets the interrupt bits of that call's state word (the engine stops
 * the guest at its next loop iteration or function entry: engine.h, interrupt).  Calls without a deadline
 * never touch it. */
#ifndef EXN_WATCHDOG_H
#define EXN_WATCHDOG_H

#include "internal.h"

/* Bits of a plugin's call-state word (plugin.h); the generation counts calls in the rest. */
#define EXN_CALL_INTERRUPT 1u /* the engine stops the guest (engine.h: interrupt bit 0) */
#define EXN_CALL_RUNNING 2u
#define EXN_CALL_TIMEOUT 4u /* the interrupt came from a deadline, not a cancel */
#define EXN_CALL_GEN_SHIFT 3

typedef struct exn_deadline {
    volatile uint32_t *state; /* the call-state word to interrupt */
    uint32_t running;         /* its value while this call runs (generation | RUNNING) */
    uint64_t at_ns;           /* monotonic deadline */
    struct exn_deadline *next;
    bool armed;
} exn_deadline_t;

/** Interrupt the call whose state word is `state` (still equal to `running`) at `at_ns`.
 *  `d` (owned by the caller, e.g. on its stack) must be disarmed before it goes away.
 *  Returns EXN_OK, or EXN_ERR_NOMEM if the watchdog thread cannot be started. */
EXN_INTERNAL exn_status_t exn_watchdog_arm(exn_deadline_t *d, volatile uint32_t *state,
                                           uint32_t running, uint64_t at_ns);

/** Forget a deadline (safe if it already fired or was never armed). */
EXN_INTERNAL void exn_watchdog_disarm(exn_deadline_t *d);

/** Set the interrupt bits if the state word still equals `running`-with-RUNNING; returns true
 *  if it did.  Used by the watchdog and by extism_plugin_cancel. */
EXN_INTERNAL bool exn_call_interrupt(volatile uint32_t *state, uint32_t reason_bits);

#endif
