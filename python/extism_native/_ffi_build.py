"""Generate the C source of the cffi binding (out-of-line, API mode).

Run by CMake at build time: ``python _ffi_build.py OUTPUT.c``.  The cdef *is* the public C
headers, csrc/extism.h and csrc/extism_native.h, with preprocessor lines dropped, plus the
``extern "Python"`` trampolines through which C reaches Python.  Nothing generated is committed.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from cffi import FFI

CSRC = Path(__file__).resolve().parents[2] / "csrc"
HEADERS = ("extism.h", "extism_native.h")

# C calls into Python only through these (cffi generates the C side).
PYTHON_CALLBACKS = """
extern "Python" int32_t _exn_py_log(void *userdata, int32_t level, const char *msg, size_t len);
extern "Python" void _exn_py_log_drain(const char *data, ExtismSize size);
extern "Python" void _exn_py_host_call(uintptr_t key, uintptr_t plugin, int64_t *slots);
extern "Python" void _exn_py_free_user_data(void *user_data);
void *exn_py_host_new(uintptr_t key, const ExtismValType *types, size_t n_in, size_t n_out);
void exn_py_host_flat(void *user_data, ExtismCurrentPlugin *plugin, int64_t *slots);
void exn_py_host_free(void *user_data);
int exn_py_host_init(void);
extern "Python" int _exn_py_wasi_stdout(void *userdata, const uint8_t *data, size_t len);
extern "Python" int _exn_py_wasi_stderr(void *userdata, const uint8_t *data, size_t len);
extern "Python" int _exn_py_http(void *userdata, const exn_http_request_t *request,
                                 exn_http_response_t *response);
"""

# The exn_host_fn given to every host function, and its user data: the function's slab key and
# which of its values are floats.  On CPython the shim calls the function's generated `invoke`
# (extism_native.host_function) itself, with the C API: `invoke(plugin, *params)` gets the
# plugin pointer and the parameters as Python ints and floats and returns the result (a tuple
# for several, None after it failed the call).  That skips what a cffi callback costs per call
# (a pointer cdata for the slots, a Python frame to dispatch, cdata indexing): the host-function
# round trip is dominated by such per-call work.  The shim holds no reference to any user
# object: it finds `invoke` in the slab's key -> object dict at every call, and user data is
# released through the slab as before.  On PyPy (where the C API is emulated) it calls
# `_exn_py_host_call` through cffi, which does the same conversions in Python.
PREAMBLE = r"""
#include "extism_native.h"
#include <stdlib.h>
#include <string.h>

static void _exn_py_host_call(uintptr_t key, uintptr_t plugin, int64_t *slots);
static void _exn_py_free_user_data(void *user_data);

typedef struct {
    uintptr_t key;          /* the slab key of the function's invoke */
    uint32_t n_in, n_out;
    uint8_t is_float[];     /* n_in + n_out flags: parameters, then results */
} exn_py_host_t;

static void *exn_py_host_new(uintptr_t key, const ExtismValType *types, size_t n_in,
                             size_t n_out)
{
    exn_py_host_t *h = malloc(sizeof *h + n_in + n_out + 1);
    if (!h)
        return NULL;
    h->key = key;
    h->n_in = (uint32_t)n_in;
    h->n_out = (uint32_t)n_out;
    for (size_t i = 0; i < n_in + n_out; i++)
        h->is_float[i] = types[i] == ExtismValType_F32 || types[i] == ExtismValType_F64;
    return h;
}

static void exn_py_host_free(void *user_data)
{
    exn_py_host_t *h = user_data;
    _exn_py_free_user_data((void *)h->key);
    free(h);
}

#ifdef PYPY_VERSION

static int exn_py_host_init(void) { return 0; }

static void exn_py_host_flat(void *user_data, ExtismCurrentPlugin *plugin, int64_t *slots)
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
static PyObject *exn_py_table;     /* the slab's key -> object dict */
static PyObject *exn_py_on_error;  /* _host_error(key, plugin, exception) */
static PyObject *exn_py_currents;  /* plugin address -> CurrentPlugin */
static PyObject *exn_py_current;   /* _current(plugin address) -> CurrentPlugin */
static PyObject *exn_py_new_pair;  /* _new_pair(n_in, n_out) -> (params, results, *vals) */
static PyObject *exn_py_s_t, *exn_py_s_value, *exn_py_s_views, *exn_py_s_release;
static PyObject *exn_py_val, *exn_py_current_plugin; /* the classes Val and CurrentPlugin */
/* Where the __slots__ Val.t, Val.value and CurrentPlugin._views live in their objects (what
 * their member descriptors use), or -1: then the attributes are set and read by name. */
static Py_ssize_t exn_py_off_t = -1, exn_py_off_value = -1, exn_py_off_views = -1;

static Py_ssize_t exn_py_slot_offset(PyObject *type, const char *name)
{
    PyMemberDef *m = PyType_GetSlot((PyTypeObject *)type, Py_tp_members);
    for (; m && m->name; m++)
        if (strcmp(m->name, name) == 0 && m->type == Py_T_OBJECT_EX && m->offset > 0 &&
            !(m->flags & READONLY))
            return m->offset;
    return -1;
}

/* val.<slot> = value for a Val (a new reference is taken); by name otherwise. */
static int exn_py_set(PyObject *obj, Py_ssize_t off, PyObject *name, PyObject *value)
{
    if (off < 0 || (PyObject *)Py_TYPE(obj) != exn_py_val)
        return PyObject_SetAttr(obj, name, value);
    PyObject **slot = (PyObject **)((char *)obj + off), *old = *slot;
    Py_INCREF(value);
    *slot = value;
    Py_XDECREF(old);
    return 0;
}

/* obj.<slot> as a new reference (NULL with AttributeError when unset). */
static PyObject *exn_py_get(PyObject *obj, PyObject *type, Py_ssize_t off, PyObject *name)
{
    PyObject *value = off >= 0 && (PyObject *)Py_TYPE(obj) == type
                          ? *(PyObject **)((char *)obj + off) : NULL;
    if (!value)
        return PyObject_GetAttr(obj, name);
    Py_INCREF(value);
    return value;
}

static int exn_py_host_init(void)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    int ok = exn_py_table != NULL;
    PyObject *module = ok ? NULL : PyImport_ImportModule("extism_native.host_function");
    if (module) {
        exn_py_table = PyObject_GetAttrString(module, "_slab_items");
        exn_py_on_error = PyObject_GetAttrString(module, "_host_error");
        exn_py_currents = PyObject_GetAttrString(module, "_currents");
        exn_py_current = PyObject_GetAttrString(module, "_current");
        exn_py_new_pair = PyObject_GetAttrString(module, "_new_pair");
        exn_py_s_t = PyUnicode_InternFromString("t");
        exn_py_s_value = PyUnicode_InternFromString("value");
        exn_py_s_views = PyUnicode_InternFromString("_views");
        exn_py_s_release = PyUnicode_InternFromString("_release");
        exn_py_val = PyObject_GetAttrString(module, "Val");
        exn_py_current_plugin = PyObject_GetAttrString(module, "CurrentPlugin");
        Py_DECREF(module);
        ok = exn_py_table && PyDict_Check(exn_py_table) && exn_py_on_error &&
             exn_py_currents && PyDict_Check(exn_py_currents) && exn_py_current &&
             exn_py_new_pair && exn_py_s_t && exn_py_s_value && exn_py_s_views &&
             exn_py_s_release && exn_py_val && PyType_Check(exn_py_val) &&
             exn_py_current_plugin && PyType_Check(exn_py_current_plugin);
        if (ok && exn_py_slot_offset(exn_py_val, "t") > 0 &&
            exn_py_slot_offset(exn_py_val, "value") > 0) {
            exn_py_off_t = exn_py_slot_offset(exn_py_val, "t");
            exn_py_off_value = exn_py_slot_offset(exn_py_val, "value");
        }
        if (ok)
            exn_py_off_views = exn_py_slot_offset(exn_py_current_plugin, "_views");
        if (!ok) /* half set up: the caller uses the cffi path; the references stay */
            exn_py_table = NULL;
    }
    PyErr_Clear();
    PyGILState_Release(gil);
    return ok;
}

static double exn_py_bits_to_double(int64_t bits)
{
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

/* A parameter as a new Python int or float. */
static PyObject *exn_py_load(int is_float, int64_t slot)
{
    return is_float ? PyFloat_FromDouble(exn_py_bits_to_double(slot))
                    : PyLong_FromLongLong(slot);
}

/* Store one result; -1 with a Python exception set when it has the wrong type or range.
 * `convert`: first apply int() / float() (the explicit API's `Val.value` may be any number). */
static int exn_py_store(PyObject *value, int is_float, int convert, int64_t *slot)
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
static void exn_py_fail(PyObject *key, PyObject *cur, ExtismCurrentPlugin *plugin)
{
    PyObject *type, *value, *tb, *handled = NULL;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value && tb)
        PyException_SetTraceback(value, tb);
    if (value && key && cur)
        handled = PyObject_CallFunctionObjArgs(exn_py_on_error, key, cur, value, NULL);
    if (!handled) {
        PyErr_Clear();
        exn_current_plugin_fail(plugin, "host function failed (its error was lost)");
    }
    Py_XDECREF(handled);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
}

/* Release the memory views a CurrentPlugin handed out during the call (keeps a pending
 * exception pending). */
static void exn_py_release_views(PyObject *current)
{
    if (exn_py_off_views >= 0 && (PyObject *)Py_TYPE(current) == exn_py_current_plugin &&
        *(PyObject **)((char *)current + exn_py_off_views) == Py_None)
        return; /* none handed out: the common case */
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyObject *views = PyObject_GetAttr(current, exn_py_s_views);
    if (views && views != Py_None) {
        PyObject *r = PyObject_CallMethodObjArgs(current, exn_py_s_release, NULL);
        Py_XDECREF(r);
    }
    Py_XDECREF(views);
    PyErr_Clear();
    PyErr_Restore(type, value, tb);
}

/* A function typed by annotations (or any host function on the generic path): its generated
 * `invoke(plugin, *params)` does the Python part and returns the result(s). */
static int exn_py_call_invoke(const exn_py_host_t *h, PyObject *invoke, PyObject *cur,
                              int64_t *slots)
{
    PyObject *args = PyTuple_New(1 + (Py_ssize_t)h->n_in), *result = NULL;
    int rc = -1;
    if (!args)
        return -1;
    Py_INCREF(cur);
    PyTuple_SetItem(args, 0, cur);
    for (uint32_t i = 0; i < h->n_in; i++) {
        PyObject *v = exn_py_load(h->is_float[i], slots[i]);
        if (!v || PyTuple_SetItem(args, 1 + (Py_ssize_t)i, v) < 0)
            goto out;
    }
    if (!(result = PyObject_Call(invoke, args, NULL)))
        goto out;
    rc = 0;
    if (h->n_out == 0 || result == Py_None) /* no results, or invoke failed the call already */
        goto out;
    if (h->n_out == 1) {
        rc = exn_py_store(result, h->is_float[h->n_in], 0, &slots[h->n_in]);
        goto out;
    }
    if (!PyTuple_Check(result) || PyTuple_Size(result) != (Py_ssize_t)h->n_out) {
        PyErr_SetString(PyExc_TypeError, "host function must return one value per result");
        rc = -1;
        goto out;
    }
    for (uint32_t j = 0; rc == 0 && j < h->n_out; j++)
        rc = exn_py_store(PyTuple_GetItem(result, j), h->is_float[h->n_in + j], 0,
                          &slots[h->n_in + j]);
out:
    Py_XDECREF(result);
    Py_DECREF(args);
    return rc;
}

/* An explicitly typed function, f(current_plugin, inputs, outputs, *user_data), called from
 * here without a Python frame of ours.  The slab holds
 *     (f, user_data, param ValTypes, result ValTypes, cache, name)
 * where cache is a one-item list holding a free `pair` or None.  A pair is
 *     (inputs, outputs, input Vals..., output Vals...)
 * and is reused while nothing but this code holds its lists and Vals: once f has returned,
 * each list must be referenced by the pair alone and still hold the pair's Vals, each Val
 * by its list and the pair alone (Val and list take no weak references).  A function that
 * keeps inputs, outputs or a Val, or changes the lists, gets a new pair next time.  Taking
 * and returning the pair involves no Python code, so under the GIL it is atomic; a nested
 * call of the same function (through another plugin) finds the cache empty. */
static int exn_py_call_explicit(const exn_py_host_t *h, PyObject *entry, PyObject *cur,
                                int64_t *slots)
{
    PyObject *f = PyTuple_GetItem(entry, 0), *user_data = PyTuple_GetItem(entry, 1);
    PyObject *in_types = PyTuple_GetItem(entry, 2), *out_types = PyTuple_GetItem(entry, 3);
    PyObject *cache = PyTuple_GetItem(entry, 4);
    PyObject *current = NULL, *pair = NULL, *args = NULL, *result = NULL;
    int rc = -1;
    Py_ssize_t n_in = h->n_in, n_out = h->n_out, n_user = PyTuple_Size(user_data);

    current = PyDict_GetItemWithError(exn_py_currents, cur); /* borrowed */
    if (current)
        Py_INCREF(current);
    else if (PyErr_Occurred() ||
             !(current = PyObject_CallFunctionObjArgs(exn_py_current, cur, NULL)))
        return -1;

    pair = PyList_GetItem(cache, 0);
    if (pair && pair != Py_None) {
        Py_INCREF(pair);
        Py_INCREF(Py_None);
        PyList_SetItem(cache, 0, Py_None);
    } else {
        PyObject *a = PyLong_FromSsize_t(n_in), *b = PyLong_FromSsize_t(n_out);
        pair = a && b ? PyObject_CallFunctionObjArgs(exn_py_new_pair, a, b, NULL) : NULL;
        Py_XDECREF(a);
        Py_XDECREF(b);
        if (!pair)
            goto out;
    }
    PyObject *inputs = PyTuple_GetItem(pair, 0), *outputs = PyTuple_GetItem(pair, 1);
    for (Py_ssize_t i = 0; i < n_in; i++) {
        PyObject *val = PyTuple_GetItem(pair, 2 + i), *v = exn_py_load(h->is_float[i], slots[i]);
        int bad = !v || exn_py_set(val, exn_py_off_t, exn_py_s_t, PyTuple_GetItem(in_types, i)) < 0 ||
                  exn_py_set(val, exn_py_off_value, exn_py_s_value, v) < 0;
        Py_XDECREF(v);
        if (bad)
            goto out;
    }
    for (Py_ssize_t j = 0; j < n_out; j++) {
        PyObject *val = PyTuple_GetItem(pair, 2 + n_in + j), *zero = PyLong_FromLong(0);
        int bad = !zero ||
                  exn_py_set(val, exn_py_off_t, exn_py_s_t, PyTuple_GetItem(out_types, j)) < 0 ||
                  exn_py_set(val, exn_py_off_value, exn_py_s_value, zero) < 0;
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
        PyObject *value = val ? exn_py_get(val, exn_py_val, exn_py_off_value, exn_py_s_value)
                              : NULL;
        rc = value ? exn_py_store(value, h->is_float[n_in + j], 1, &slots[n_in + j]) : -1;
        Py_XDECREF(value);
    }
#ifndef Py_GIL_DISABLED /* reference counts are exact only with the GIL */
    if (rc == 0) {
        int reusable = Py_REFCNT(inputs) == 1 && Py_REFCNT(outputs) == 1 &&
                       PyList_Size(inputs) == n_in && PyList_Size(outputs) == n_out;
        for (Py_ssize_t i = 0; reusable && i < n_in + n_out; i++) {
            PyObject *val = PyTuple_GetItem(pair, 2 + i);
            PyObject *held = i < n_in ? PyList_GetItem(inputs, i) : PyList_GetItem(outputs, i - n_in);
            reusable = held == val && Py_REFCNT(val) == 2;
        }
        if (reusable && PyList_GetItem(cache, 0) == Py_None) {
            PyList_SetItem(cache, 0, pair); /* steals our reference */
            pair = NULL;
        }
    }
#endif
out:
    exn_py_release_views(current);
    Py_XDECREF(result);
    Py_XDECREF(args);
    Py_XDECREF(pair);
    Py_DECREF(current);
    return rc;
}

static void exn_py_host_flat(void *user_data, ExtismCurrentPlugin *plugin, int64_t *slots)
{
    const exn_py_host_t *h = user_data;
    if (!exn_py_table) { /* exn_py_host_init failed: the Python path, through cffi */
        _exn_py_host_call(h->key, (uintptr_t)plugin, slots);
        return;
    }
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *key = PyLong_FromSize_t(h->key), *cur = PyLong_FromVoidPtr(plugin);
    PyObject *entry = key && cur ? PyDict_GetItemWithError(exn_py_table, key) : NULL;
    if (!key || !cur || PyErr_Occurred()) {
        exn_py_fail(key, cur, plugin);
    } else if (!entry) {
        exn_current_plugin_fail(plugin, "host function called after it was released");
    } else {
        Py_INCREF(entry);
        int rc = PyTuple_Check(entry) ? exn_py_call_explicit(h, entry, cur, slots)
                                      : exn_py_call_invoke(h, entry, cur, slots);
        if (rc < 0)
            exn_py_fail(key, cur, plugin);
        Py_DECREF(entry);
    }
    Py_XDECREF(cur);
    Py_XDECREF(key);
    PyGILState_Release(gil);
}

#endif
"""


def header_cdef(text: str) -> str:
    """The declarations of a header in the form cffi's parser accepts."""
    text = re.sub(r"^#ifdef __cplusplus$.*?^#endif$", "", text, flags=re.S | re.M)
    out, continued = [], False
    for line in text.splitlines():
        if continued or line.lstrip().startswith("#"):
            continued = line.rstrip().endswith("\\")
            continue
        out.append(line)
    return "\n".join(out).replace("EXTISM_API ", "")


def make_ffi() -> FFI:
    ffi = FFI()
    for name in HEADERS:
        ffi.cdef(header_cdef((CSRC / name).read_text()))
    ffi.cdef(PYTHON_CALLBACKS)
    ffi.set_source("extism_native._cffi", PREAMBLE)
    return ffi


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: _ffi_build.py OUTPUT.c")
    make_ffi().emit_c_code(sys.argv[1])
