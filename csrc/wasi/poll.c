/* wasi/poll.c: poll_oneoff - sleeping (clock subscriptions; what wasi-libc's nanosleep and
 * Rust's thread::sleep use) and readiness of descriptors.  Files, stdin's bytes and
 * stdout/stderr never block, so a descriptor subscription is always ready at once.
 * A sleep wakes up at least every 10 ms to see whether the call was cancelled or timed out
 * (then it stops the guest like any interrupt: the call ends with EXN_ERR_CANCELLED/_TIMEOUT).
 * Definition: WASI preview 1, wasi_snapshot_preview1.witx, "poll_oneoff".
 * May call: sys.h (clocks, sleep), watchdog.h (the interrupt bit). */
#include "support/watchdog.h"
#include "imports.h"

#define SLICE_NS 10000000u /* 10 ms */

typedef struct {
    uint64_t userdata;
    uint8_t type;
    bool is_clock;
    uint64_t deadline; /* clock: monotonic ns */
    uint16_t error;    /* fd: its event's error */
    uint64_t nbytes;   /* fd: bytes ready */
} sub_t;

/* A clock subscription's deadline on the monotonic clock. */
static uint16_t clock_deadline(const uint8_t *s, uint64_t now_mono, uint64_t *out)
{
    uint32_t id = wasi_get_u32(s + WASI_SUBSCRIPTION_CLOCK_ID);
    uint64_t timeout = wasi_get_u64(s + WASI_SUBSCRIPTION_CLOCK_TIMEOUT);
    uint16_t flags = wasi_get_u16(s + WASI_SUBSCRIPTION_CLOCK_FLAGS);
    if ((id != WASI_CLOCK_REALTIME && id != WASI_CLOCK_MONOTONIC) ||
        (flags & ~WASI_SUBCLOCK_ABSTIME))
        return WASI_EINVAL;
    uint64_t left = timeout;
    if (flags & WASI_SUBCLOCK_ABSTIME) {
        uint64_t now = now_mono;
        if (id == WASI_CLOCK_REALTIME && exn_sys_clock_time(WASI_CLOCK_REALTIME, &now) != 0)
            return WASI_EIO;
        left = timeout > now ? timeout - now : 0;
    }
    *out = left > UINT64_MAX - now_mono ? UINT64_MAX : now_mono + left;
    return 0;
}

/* A descriptor subscription: its event, available at once. */
static void fd_event(exn_wasi_t *w, const uint8_t *s, sub_t *out)
{
    wasi_fd_t *e = exn_wasi_fd(w, wasi_get_u32(s + WASI_SUBSCRIPTION_FD));
    bool reading = out->type == WASI_EVENTTYPE_FD_READ;
    out->nbytes = 0;
    if (!e) {
        out->error = WASI_EBADF;
    } else if (e->kind == WASI_FD_STDIN) {
        out->error = reading ? 0 : WASI_EBADF;
        out->nbytes = w->stdin_len - w->stdin_pos;
    } else if (e->kind == WASI_FD_STDOUT || e->kind == WASI_FD_STDERR) {
        out->error = reading ? WASI_EBADF : 0;
    } else if (e->kind == WASI_FD_DIR) {
        out->error = WASI_EBADF;
    } else if ((e->rights_base & WASI_RIGHT_POLL_FD_READWRITE) == 0) {
        out->error = WASI_ENOTCAPABLE;
    } else {
        out->error = 0;
        exn_sys_stat_t st;
        uint64_t pos;
        if (reading && exn_sys_fstat(e->h, &st) == 0 &&
            exn_sys_seek(e->h, 0, WASI_WHENCE_CUR, &pos) == 0 && st.size > pos)
            out->nbytes = st.size - pos;
    }
}

/* poll_oneoff(in: *subscription, out: *event, nsubscriptions: u32, nevents: *u32) -> errno
 * Waits until at least one subscription has an event, writes the events to out (one per
 * subscription that has one) and their number to *nevents.  Descriptor subscriptions are
 * ready at once (an invalid one reports its error in its event); with only clocks, sleeps
 * until the earliest deadline (relative, or ABSTIME on the realtime or monotonic clock).
 *
 *   subscription (48 bytes): [userdata u64 | tag u8 | pad x7 | clock: id u32 | pad u32 |
 *                             timeout u64 | precision u64 | flags u16 | pad x6]
 *                                                     [... | fd_readwrite: fd u32 | pad ...]
 *   event (32 bytes): [userdata u64 | error u16 | type u8 | pad x5 | nbytes u64 | flags u16 |
 *                      pad x6]
 *
 * Errors: EINVAL - no subscriptions, an unknown tag, a clock other than realtime/monotonic,
 * or unknown clock flags; EFAULT - in, out or nevents outside memory; ENOMEM. */
EXN_IMPORT(wasi_poll_oneoff)
{
    ExtismPlugin *p = exn_plugin_of(caller);
    uint32_t in_off = exn_arg_u32(sp, 1), out_off = exn_arg_u32(sp, 2);
    uint32_t n = exn_arg_u32(sp, 3), nevents_off = exn_arg_u32(sp, 4);
    if (n == 0)
        WASI_RETURN(sp, WASI_EINVAL);
    wasi_mem_t m = exn_wasi_memory(caller);
    if (!wasi_in(m, in_off, (uint64_t)n * WASI_SUBSCRIPTION_SIZE) ||
        !wasi_in(m, out_off, (uint64_t)n * WASI_EVENT_SIZE) || !wasi_in(m, nevents_off, 4))
        WASI_RETURN(sp, WASI_EFAULT);
    sub_t *subs = exn_malloc((size_t)n * sizeof *subs);
    if (!subs)
        WASI_RETURN(sp, WASI_ENOMEM);
    uint64_t now = 0;
    exn_sys_clock_time(WASI_CLOCK_MONOTONIC, &now);
    uint64_t earliest = UINT64_MAX;
    bool fd_ready = false;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *s = m.base + in_off + (uint64_t)i * WASI_SUBSCRIPTION_SIZE;
        sub_t *u = &subs[i];
        u->userdata = wasi_get_u64(s + WASI_SUBSCRIPTION_USERDATA);
        u->type = s[WASI_SUBSCRIPTION_TAG];
        u->is_clock = u->type == WASI_EVENTTYPE_CLOCK;
        u->error = 0;
        u->nbytes = 0;
        if (u->is_clock) {
            uint16_t err = clock_deadline(s, now, &u->deadline);
            if (err) {
                exn_free(subs);
                WASI_RETURN(sp, err);
            }
            if (u->deadline < earliest)
                earliest = u->deadline;
        } else if (u->type == WASI_EVENTTYPE_FD_READ || u->type == WASI_EVENTTYPE_FD_WRITE) {
            fd_event(p->wasi, s, u);
            fd_ready = true;
        } else {
            exn_free(subs);
            WASI_RETURN(sp, WASI_EINVAL);
        }
    }

    if (!fd_ready) {
        /* only clocks: sleep until the earliest one, a slice at a time */
        while (now < earliest) {
            if (exn_atomic_load_u32(&p->call_state) & EXN_CALL_INTERRUPT) {
                exn_free(subs);
                return exn_trap_interrupted;
            }
            uint64_t left = earliest - now;
            exn_sys_sleep(left < SLICE_NS ? left : SLICE_NS);
            exn_sys_clock_time(WASI_CLOCK_MONOTONIC, &now);
        }
    }

    m = exn_wasi_memory(caller); /* (taken afresh after sleeping; it can only have grown) */
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
        const sub_t *u = &subs[i];
        if (u->is_clock && u->deadline > now)
            continue;
        uint8_t *ev = m.base + out_off + (uint64_t)k++ * WASI_EVENT_SIZE;
        memset(ev, 0, WASI_EVENT_SIZE);
        wasi_put_u64(ev + WASI_EVENT_USERDATA, u->userdata);
        wasi_put_u16(ev + WASI_EVENT_ERROR, u->error);
        ev[WASI_EVENT_TYPE] = u->type;
        if (!u->is_clock)
            wasi_put_u64(ev + WASI_EVENT_NBYTES, u->nbytes);
    }
    exn_free(subs);
    wasi_put_u32(m.base + nevents_off, k);
    WASI_RETURN(sp, 0);
}
