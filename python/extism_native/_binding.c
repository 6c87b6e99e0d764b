/* _binding.c: the C half of the Python binding, compiled into the cffi module next to the C
 * that cffi generates (CMakeLists.txt builds it with the core's warnings, -Werror in CI).
 *
 * 1. Host functions.  Every host function made in Python gets exn_py_host_flat as its
 *    exn_host_fn and an exn_py_host_t as user data: the function's slab key (the Python object
 *    registered for it, see extism_native._native.Slab) and which of its values are floats.
 *    One path for both kinds of host function: take the GIL, find the slab entry and the
 *    CurrentPlugin, call the Python side, store the results, retire the CurrentPlugin (release
 *    its memory views; if the host function kept it, make it unusable and never reuse it), and
 *    hand an exception to Python (extism_native.host_function._host_error), which fails the
 *    call and keeps the exception for Plugin.call.  The entry is
 *      - for a function typed by annotations, its generated `invoke(current, *params)`, which
 *        gets the parameters as Python ints and floats and returns the result (a tuple for
 *        several);
 *      - for an explicitly typed function, the tuple `_explicit_entry` makes: the function is
 *        called as f(current, inputs, outputs, *user_data) with lists of Val objects, reused
 *        while nothing else holds them.
 *    On CPython this is done here with the C API: it skips what a cffi callback costs per call
 *    (a pointer cdata for the slots, a Python frame to dispatch, cdata indexing), which
 *    dominates a host-function round trip.  On PyPy (where the C API is emulated and slow)
 *    exn_py_host_flat calls `_exn_py_host_call` through cffi, which does the same in Python.
 *    C never keeps a reference to a user's object: the entry is looked up at every call.
 *
 * 2. Ctrl-C.  Python's SIGINT handler only sets a flag that the interpreter looks at between
 *    bytecodes: a guest running on the main thread would never see it.  exn_py_sigint_install
 *    (called from Python on the main thread while Python's default handler is in place)
 *    installs a C handler in front of Python's: on the main thread it stops the innermost
 *    plugin call (exn_thread_interrupt; the call ends "cancelled") and then calls Python's
 *    handler, so Python raises KeyboardInterrupt as soon as the call has returned.
 *
 * May call: extism_native.h (the core's API), the Python C API (limited API on CPython), and
 * the cffi-generated `extern "Python+C"` functions declared below. */
#include <Python.h>

#include <stdlib.h>
#include <string.h>

#include "extism_native.h"

#ifndef _WIN32
#include <pthread.h>
#include <signal.h>
#endif

/* ---- declarations shared with the cffi module (the cdef in _ffi_build.py) ------------------- */

/* made by cffi (extern "Python+C") */
void _exn_py_host_call(uintptr_t key, uintptr_t plugin, int64_t *slots);
void _exn_py_free_user_data(void *user_data);

/* ours, used from Python */
void *exn_py_host_new(uintptr_t key, const ExtismValType *types, size_t n_in, size_t n_out);
void exn_py_host_flat(void *user_data, ExtismCurrentPlugin *plugin, int64_t *slots);
void exn_py_host_free(void *user_data);
int exn_py_host_init(void);
int exn_py_sigint_install(void);
int exn_py_sigint_uninstall(void);
void *exn_py_call_alloc(size_t size);
void exn_py_call_free(void *call);

/* The allocator of Plugin's exn_call_t objects (cffi's ffi.new_allocator): freeing one also
 * frees the output buffer C gave it. */
void *exn_py_call_alloc(size_t size)
{
    return calloc(1, size);
}

void exn_py_call_free(void *call)
{
    exn_call_release(call);
    free(call);
}

typedef struct {
    uintptr_t key;      /* the slab key of the function's entry */
    uint32_t n_in, n_out;
    uint8_t *is_float;  /* n_in + n_out flags, parameters then results (after the struct) */
} exn_py_host_t;

void *exn_py_host_new(uintptr_t key, const ExtismValType *types, size_t n_in, size_t n_out)
{
    exn_py_host_t *h = malloc(sizeof *h + n_in + n_out + 1);
    if (!h)
        return NULL;
    h->is_float = (uint8_t *)(h + 1);
    h->key = key;
    h->n_in = (uint32_t)n_in;
    h->n_out = (uint32_t)n_out;
    for (size_t i = 0; i < n_in + n_out; i++)
        h->is_float[i] = types[i] == ExtismValType_F32 || types[i] == ExtismValType_F64;
    return h;
}

void exn_py_host_free(void *user_data)
{
    exn_py_host_t *h = user_data;
    _exn_py_free_user_data((void *)h->key);
    free(h);
}

/* ---- host functions --------------------------------------------------------------------------- */

#ifdef PYPY_VERSION

int exn_py_host_init(void)
{
    return 0;
}

void exn_py_host_flat(void *user_data, ExtismCurrentPlugin *plugin, int64_t *slots)
{
    _exn_py_host_call(((exn_py_host_t *)user_data)->key, (uintptr_t)plugin, slots);
}

#else

#include <structmember.h> /* PyMemberDef, T_OBJECT_EX */
#ifndef Py_T_OBJECT_EX
#define Py_T_OBJECT_EX T_OBJECT_EX
#endif

/* Taken from extism_native.host_function once (exn_py_host_init) and kept for the life of
 * the process. */
static PyObject *table;          /* the slab's key -> entry dict */
static PyObject *on_error;       /* _host_error(key, current, exception) */
static PyObject *currents;       /* plugin address -> CurrentPlugin, reused while not kept */
static PyObject *new_current;    /* _current(plugin address) -> CurrentPlugin (and caches it) */
static PyObject *new_pair;       /* _new_pair(n_in, n_out) -> (params, results, *vals) */
static PyObject *s_t, *s_value, *s_views, *s_release, *s_pointer;
static PyObject *val_type, *current_type; /* the classes Val and CurrentPlugin */
/* Where the __slots__ Val.t, Val.value and CurrentPlugin._views live in their objects (what
 * their member descriptors use), or -1: then the attributes are set and read by name. */
static Py_ssize_t off_type = -1, off_value = -1, off_views = -1;

static Py_ssize_t slot_offset(PyObject *type, const char *name)
{
    PyMemberDef *m = PyType_GetSlot((PyTypeObject *)type, Py_tp_members);
    for (; m && m->name; m++) {
        if (strcmp(m->name, name) == 0 && m->type == Py_T_OBJECT_EX && m->offset > 0 &&
            !(m->flags & READONLY))
            return m->offset;
    }
    return -1;
}

/* obj.<slot> = value for a Val (a new reference is taken); by name otherwise. */
static int set_slot(PyObject *obj, Py_ssize_t off, PyObject *name, PyObject *value)
{
    if (off < 0 || (PyObject *)Py_TYPE(obj) != val_type)
        return PyObject_SetAttr(obj, name, value);
    PyObject **slot = (PyObject **)(void *)((char *)obj + off), *old = *slot;
    Py_INCREF(value);
    *slot = value;
    Py_XDECREF(old);
    return 0;
}

/* obj.<slot> as a new reference (NULL with AttributeError when unset). */
static PyObject *get_slot(PyObject *obj, PyObject *type, Py_ssize_t off, PyObject *name)
{
    PyObject *value = off >= 0 && (PyObject *)Py_TYPE(obj) == type
                          ? *(PyObject **)(void *)((char *)obj + off)
                          : NULL;
    if (!value)
        return PyObject_GetAttr(obj, name);
    Py_INCREF(value);
    return value;
}

int exn_py_host_init(void)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    int ok = table != NULL;
    PyObject *module = ok ? NULL : PyImport_ImportModule("extism_native.host_function");
    if (module) {
        table = PyObject_GetAttrString(module, "_slab_items");
        on_error = PyObject_GetAttrString(module, "_host_error");
        currents = PyObject_GetAttrString(module, "_currents");
        new_current = PyObject_GetAttrString(module, "_current");
        new_pair = PyObject_GetAttrString(module, "_new_pair");
        s_t = PyUnicode_InternFromString("t");
        s_value = PyUnicode_InternFromString("value");
        s_views = PyUnicode_InternFromString("_views");
        s_release = PyUnicode_InternFromString("_release");
        s_pointer = PyUnicode_InternFromString("pointer");
        val_type = PyObject_GetAttrString(module, "Val");
        current_type = PyObject_GetAttrString(module, "CurrentPlugin");
        Py_DECREF(module);
        ok = table && PyDict_Check(table) && on_error && currents && PyDict_Check(currents) &&
             new_current && new_pair && s_t && s_value && s_views && s_release && s_pointer &&
             val_type && PyType_Check(val_type) && current_type && PyType_Check(current_type);
        if (ok && slot_offset(val_type, "t") > 0 && slot_offset(val_type, "value") > 0) {
            off_type = slot_offset(val_type, "t");
            off_value = slot_offset(val_type, "value");
        }
        if (ok)
            off_views = slot_offset(current_type, "_views");
        if (!ok) /* half set up: the caller uses the cffi path; the references stay */
            table = NULL;
    }
    PyErr_Clear();
    PyGILState_Release(gil);
    return ok;
}

static double bits_to_double(int64_t bits)
{
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

/* A parameter as a new Python int or float. */
static PyObject *load(int is_float, int64_t slot)
{
    return is_float ? PyFloat_FromDouble(bits_to_double(slot)) : PyLong_FromLongLong(slot);
}

/* Store one result; -1 with a Python exception set when it has the wrong type or range.
 * `convert`: first apply int() / float() (the explicit API's `Val.value` may be any number). */
static int store(PyObject *value, int is_float, int convert, int64_t *slot)
{
    PyObject *number = !convert ? value : is_float ? PyNumber_Float(value) : PyNumber_Long(value);
    int rc = -1;
    if (!number)
        return -1;
    if (is_float) {
        double d = PyFloat_AsDouble(number);
        if (!(d == -1.0 && PyErr_Occurred())) {
            memcpy(slot, &d, sizeof d);
            rc = 0;
        }
    } else {
        long long v = PyLong_AsLongLong(number);
        if (!(v == -1 && PyErr_Occurred())) {
            *slot = (int64_t)v;
            rc = 0;
        }
    }
    if (number != value)
        Py_DECREF(number);
    return rc;
}

/* Hand the pending exception to Python, which fails the call and keeps it for Plugin.call. */
static void fail(PyObject *key, PyObject *current, ExtismCurrentPlugin *plugin)
{
    PyObject *type, *value, *tb, *handled = NULL;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value && tb)
        PyException_SetTraceback(value, tb);
    if (value && key && current)
        handled = PyObject_CallFunctionObjArgs(on_error, key, current, value, NULL);
    if (!handled) {
        PyErr_Clear();
        exn_current_plugin_fail(plugin, "host function failed (its error was lost)");
    }
    Py_XDECREF(handled);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
}

/* The host call is over: release the memory views `current` handed out, and if anything
 * but the cache and us still holds it (the host function kept it, or a traceback does), make
 * it unusable (pointer = None: its methods raise UsageError) and drop it from the cache.
 * Keeps a pending exception pending. */
static void retire(PyObject *current, PyObject *cur_key)
{
    int has_views = !(off_views >= 0 && (PyObject *)Py_TYPE(current) == current_type &&
                      *(PyObject **)(void *)((char *)current + off_views) == Py_None);
#ifdef Py_GIL_DISABLED
    int kept = 1; /* reference counts are exact only with the GIL */
#else
    int kept = Py_REFCNT(current) > 2; /* the cache's reference and ours */
#endif
    if (!has_views && !kept)
        return; /* the common case */
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    if (has_views) {
        PyObject *r = PyObject_CallMethodObjArgs(current, s_release, NULL);
        Py_XDECREF(r);
    }
    if (kept) {
        PyObject_SetAttr(current, s_pointer, Py_None);
        if (PyDict_GetItemWithError(currents, cur_key) == current)
            PyDict_DelItem(currents, cur_key);
    }
    PyErr_Clear();
    PyErr_Restore(type, value, tb);
}

/* A function typed by annotations: its generated `invoke(current, *params)`. */
static int call_invoke(const exn_py_host_t *h, PyObject *invoke, PyObject *current,
                       int64_t *slots)
{
    PyObject *args = PyTuple_New(1 + (Py_ssize_t)h->n_in), *result = NULL;
    int rc = -1;
    if (!args)
        return -1;
    Py_INCREF(current);
    PyTuple_SetItem(args, 0, current);
    for (uint32_t i = 0; i < h->n_in; i++) {
        PyObject *v = load(h->is_float[i], slots[i]);
        if (!v || PyTuple_SetItem(args, 1 + (Py_ssize_t)i, v) < 0)
            goto out;
    }
    result = PyObject_Call(invoke, args, NULL);
    Py_CLEAR(args); /* before retire() counts the references to current */
    if (!result)
        goto out;
    rc = 0;
    if (h->n_out == 0)
        goto out;
    if (h->n_out == 1) {
        rc = store(result, h->is_float[h->n_in], 0, &slots[h->n_in]);
        goto out;
    }
    if (!PyTuple_Check(result) || PyTuple_Size(result) != (Py_ssize_t)h->n_out) {
        PyErr_SetString(PyExc_TypeError, "host function must return one value per result");
        rc = -1;
        goto out;
    }
    for (uint32_t j = 0; rc == 0 && j < h->n_out; j++)
        rc = store(PyTuple_GetItem(result, j), h->is_float[h->n_in + j], 0, &slots[h->n_in + j]);
out:
    Py_XDECREF(result);
    Py_XDECREF(args);
    return rc;
}

/* An explicitly typed function, f(current, inputs, outputs, *user_data).  The entry is
 *     (f, user_data, param ValTypes, result ValTypes, cache, name)
 * where cache is a one-item list holding a free `pair` or None.  A pair is
 *     (inputs, outputs, input Vals..., output Vals...)
 * and is reused while nothing but this code holds its lists and Vals: once f has returned,
 * each list must be referenced by the pair alone and still hold the pair's Vals, each Val
 * by its list and the pair alone (Val and list take no weak references).  A function that
 * keeps inputs, outputs or a Val, or changes the lists, gets a new pair next time.  Taking
 * and returning the pair involves no Python code, so under the GIL it is atomic; a nested
 * call of the same function (through another plugin) finds the cache empty. */
static int call_explicit(const exn_py_host_t *h, PyObject *entry, PyObject *current,
                         int64_t *slots)
{
    PyObject *f = PyTuple_GetItem(entry, 0), *user_data = PyTuple_GetItem(entry, 1);
    PyObject *in_types = PyTuple_GetItem(entry, 2), *out_types = PyTuple_GetItem(entry, 3);
    PyObject *cache = PyTuple_GetItem(entry, 4);
    PyObject *pair = NULL, *args = NULL, *result = NULL;
    int rc = -1;
    Py_ssize_t n_in = h->n_in, n_out = h->n_out, n_user = PyTuple_Size(user_data);

    pair = PyList_GetItem(cache, 0);
    if (pair && pair != Py_None) {
        Py_INCREF(pair);
        Py_INCREF(Py_None);
        PyList_SetItem(cache, 0, Py_None);
    } else {
        PyObject *a = PyLong_FromSsize_t(n_in), *b = PyLong_FromSsize_t(n_out);
        pair = a && b ? PyObject_CallFunctionObjArgs(new_pair, a, b, NULL) : NULL;
        Py_XDECREF(a);
        Py_XDECREF(b);
        if (!pair)
            goto out;
    }
    PyObject *inputs = PyTuple_GetItem(pair, 0), *outputs = PyTuple_GetItem(pair, 1);
    for (Py_ssize_t i = 0; i < n_in; i++) {
        PyObject *val = PyTuple_GetItem(pair, 2 + i), *v = load(h->is_float[i], slots[i]);
        int bad = !v || set_slot(val, off_type, s_t, PyTuple_GetItem(in_types, i)) < 0 ||
                  set_slot(val, off_value, s_value, v) < 0;
        Py_XDECREF(v);
        if (bad)
            goto out;
    }
    for (Py_ssize_t j = 0; j < n_out; j++) {
        PyObject *val = PyTuple_GetItem(pair, 2 + n_in + j), *zero = PyLong_FromLong(0);
        int bad = !zero || set_slot(val, off_type, s_t, PyTuple_GetItem(out_types, j)) < 0 ||
                  set_slot(val, off_value, s_value, zero) < 0;
        Py_XDECREF(zero);
        if (bad)
            goto out;
    }
    if (!(args = PyTuple_New(3 + n_user)))
        goto out;
    Py_INCREF(current);
    PyTuple_SetItem(args, 0, current);
    Py_INCREF(inputs);
    PyTuple_SetItem(args, 1, inputs);
    Py_INCREF(outputs);
    PyTuple_SetItem(args, 2, outputs);
    for (Py_ssize_t k = 0; k < n_user; k++) {
        PyObject *extra = PyTuple_GetItem(user_data, k);
        Py_INCREF(extra);
        PyTuple_SetItem(args, 3 + k, extra);
    }
    result = PyObject_Call(f, args, NULL);
    Py_CLEAR(args);
    if (!result)
        goto out;
    rc = 0;
    for (Py_ssize_t j = 0; rc == 0 && j < n_out; j++) {
        /* as the official package: whatever outputs[j] is now, its .value */
        PyObject *val = PyList_GetItem(outputs, j);
        PyObject *value = val ? get_slot(val, val_type, off_value, s_value) : NULL;
        rc = value ? store(value, h->is_float[n_in + j], 1, &slots[n_in + j]) : -1;
        Py_XDECREF(value);
    }
#ifndef Py_GIL_DISABLED /* reference counts are exact only with the GIL */
    if (rc == 0) {
        int reusable = Py_REFCNT(inputs) == 1 && Py_REFCNT(outputs) == 1 &&
                       PyList_Size(inputs) == n_in && PyList_Size(outputs) == n_out;
        for (Py_ssize_t i = 0; reusable && i < n_in + n_out; i++) {
            PyObject *val = PyTuple_GetItem(pair, 2 + i);
            PyObject *held = i < n_in ? PyList_GetItem(inputs, i)
                                      : PyList_GetItem(outputs, i - n_in);
            reusable = held == val && Py_REFCNT(val) == 2;
        }
        if (reusable && PyList_GetItem(cache, 0) == Py_None) {
            PyList_SetItem(cache, 0, pair); /* steals our reference */
            pair = NULL;
        }
    }
#endif
out:
    Py_XDECREF(result);
    Py_XDECREF(args);
    Py_XDECREF(pair);
    return rc;
}

void exn_py_host_flat(void *user_data, ExtismCurrentPlugin *plugin, int64_t *slots)
{
    const exn_py_host_t *h = user_data;
    if (!table) { /* exn_py_host_init failed: the Python path, through cffi */
        _exn_py_host_call(h->key, (uintptr_t)plugin, slots);
        return;
    }
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *key = PyLong_FromSize_t(h->key), *cur_key = PyLong_FromVoidPtr(plugin);
    PyObject *entry = NULL, *current = NULL;
    if (key && cur_key) {
        entry = PyDict_GetItemWithError(table, key); /* borrowed */
        current = entry ? PyDict_GetItemWithError(currents, cur_key) : NULL;
        if (current)
            Py_INCREF(current);
        else if (entry && !PyErr_Occurred())
            current = PyObject_CallFunctionObjArgs(new_current, cur_key, NULL);
    }
    if (!current) {
        if (PyErr_Occurred() || !key || !cur_key)
            fail(NULL, NULL, plugin);
        else
            exn_current_plugin_fail(plugin, "host function called after it was released");
    } else {
        Py_INCREF(entry);
        int rc = PyTuple_Check(entry) ? call_explicit(h, entry, current, slots)
                                      : call_invoke(h, entry, current, slots);
        Py_DECREF(entry);
        if (rc < 0)
            fail(key, current, plugin);
        retire(current, cur_key);
        Py_DECREF(current);
    }
    Py_XDECREF(cur_key);
    Py_XDECREF(key);
    PyGILState_Release(gil);
}

#endif /* PYPY_VERSION */

/* ---- Ctrl-C ------------------------------------------------------------------------------------ */

#ifndef _WIN32

static struct sigaction prev_sigint; /* Python's handler, called after ours */
static exn_thread_t *main_thread;
static pthread_t main_pthread;

static void on_sigint(int sig, siginfo_t *info, void *ucontext)
{
    /* (only on the main thread: exn_thread_interrupt is async-signal-safe on its own thread) */
    if (main_thread && pthread_equal(pthread_self(), main_pthread))
        exn_thread_interrupt(main_thread);
    if (prev_sigint.sa_flags & SA_SIGINFO) {
        if (prev_sigint.sa_sigaction)
            prev_sigint.sa_sigaction(sig, info, ucontext);
    } else if (prev_sigint.sa_handler != SIG_DFL && prev_sigint.sa_handler != SIG_IGN &&
               prev_sigint.sa_handler) {
        prev_sigint.sa_handler(sig);
    }
}

static int is_ours(const struct sigaction *sa)
{
    return (sa->sa_flags & SA_SIGINFO) && sa->sa_sigaction == on_sigint;
}

/* Put on_sigint in front of the SIGINT handler in place (Python's), on the main thread.
 * Returns 1 if ours is installed now, 0 if not (the handler is SIG_DFL or SIG_IGN). */
int exn_py_sigint_install(void)
{
    struct sigaction cur, mine;
    if (sigaction(SIGINT, NULL, &cur) != 0)
        return 0;
    if (is_ours(&cur))
        return 1;
    if (!(cur.sa_flags & SA_SIGINFO) && (cur.sa_handler == SIG_DFL || cur.sa_handler == SIG_IGN))
        return 0;
    /* ours is not installed: nothing reads prev_sigint now */
    prev_sigint = cur;
    main_thread = exn_thread_self();
    main_pthread = pthread_self();
    memset(&mine, 0, sizeof mine);
    mine.sa_sigaction = on_sigint;
    mine.sa_mask = cur.sa_mask;
    mine.sa_flags = (cur.sa_flags & ~SA_RESETHAND) | SA_SIGINFO;
    return sigaction(SIGINT, &mine, NULL) == 0;
}

/* Put Python's handler back if ours is in place.  Returns 1 if it was. */
int exn_py_sigint_uninstall(void)
{
    struct sigaction cur;
    if (sigaction(SIGINT, NULL, &cur) != 0 || !is_ours(&cur))
        return 0;
    return sigaction(SIGINT, &prev_sigint, NULL) == 0;
}

#else /* Windows: the console's Ctrl-C reaches Python once the call has returned */

int exn_py_sigint_install(void)
{
    return 0;
}

int exn_py_sigint_uninstall(void)
{
    return 0;
}

#endif
