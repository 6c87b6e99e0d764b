/* watchdog.c: the process-wide deadline thread (see watchdog.h).  Armed deadlines form a list
 * sorted by time, guarded by the global lock; the thread starts on the first deadline and is
 * restarted in a child process after fork().
 * May call: os.h (global lock and condition, threads). */
#include "watchdog.h"

#include "os.h"

static exn_deadline_t *pending; /* sorted, earliest first */
static bool started, fork_handler;

bool exn_call_interrupt(volatile uint32_t *state, uint32_t reason_bits)
{
    for (;;) {
        uint32_t s = exn_atomic_load_u32(state);
        if (!(s & EXN_CALL_RUNNING))
            return false; /* no call to stop; nothing is remembered for the next one */
        if (s & EXN_CALL_INTERRUPT)
            return true;
        if (exn_atomic_cas_u32(state, s, s | EXN_CALL_INTERRUPT | reason_bits))
            return true;
    }
}

static void watchdog_main(void *unused)
{
    (void)unused;
    exn_os_global_lock();
    for (;;) {
        uint64_t now = exn_os_monotonic_ns();
        while (pending && pending->at_ns <= now) {
            exn_deadline_t *d = pending;
            pending = d->next;
            d->armed = false;
            /* only the call that armed it: the generation in the word must still match */
            exn_atomic_cas_u32(d->state, d->running,
                               d->running | EXN_CALL_INTERRUPT | EXN_CALL_TIMEOUT);
        }
        exn_os_global_wait(pending ? pending->at_ns : 0);
    }
}

static void after_fork(void)
{
    /* the child has no watchdog thread and no running calls */
    exn_os_global_reinit();
    pending = NULL;
    started = false;
}

exn_status_t exn_watchdog_arm(exn_deadline_t *d, volatile uint32_t *state, uint32_t running,
                              uint64_t at_ns)
{
    d->state = state;
    d->running = running;
    d->at_ns = at_ns;
    exn_os_global_lock();
    if (!started) {
        if (exn_os_thread_start(watchdog_main, NULL) != 0) {
            exn_os_global_unlock();
            d->armed = false;
            return EXN_ERR_NOMEM;
        }
        started = true;
        if (!fork_handler)
            exn_os_atfork_child(after_fork);
        fork_handler = true;
    }
    exn_deadline_t **at = &pending;
    while (*at && (*at)->at_ns <= at_ns)
        at = &(*at)->next;
    d->next = *at;
    *at = d;
    d->armed = true;
    if (pending == d)
        exn_os_global_signal(); /* a new earliest deadline: wake the thread to re-plan */
    exn_os_global_unlock();
    return EXN_OK;
}

void exn_watchdog_disarm(exn_deadline_t *d)
{
    exn_os_global_lock();
    if (d->armed) {
        for (exn_deadline_t **at = &pending; *at; at = &(*at)->next) {
            if (*at == d) {
                *at = d->next;
                break;
            }
        }
        d->armed = false;
    }
    exn_os_global_unlock();
}
