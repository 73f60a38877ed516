/*
 * Argument helpers shared by the addon's source files: a wrong type is reported as -EINVAL,
 * never a crash. Each extra source file (native/<concern>.c) defines
 * `void tsv_register_<concern>(napi_env env, napi_value exports)` that EXPORTs its functions,
 * and addon.c's init calls it.
 */
#ifndef TSVISOR_NAPI_ARGS_H
#define TSVISOR_NAPI_ARGS_H
#include <node_api.h>
#include <errno.h>
#include <stdint.h>
#include <stdbool.h>

#define MAX_ARGS 8

typedef struct {
  napi_env env;
  size_t argc;
  napi_value argv[MAX_ARGS];
  int bad;
} args_t;

static inline int get_args(napi_env env, napi_callback_info info, args_t *a, size_t want) {
  a->env = env;
  a->argc = MAX_ARGS;
  a->bad = 0;
  if (napi_get_cb_info(env, info, &a->argc, a->argv, NULL, NULL) != napi_ok) return -1;
  if (a->argc < want) return -1;
  return 0;
}

static inline int64_t arg_i64(args_t *a, size_t i) {
  int64_t v = 0;
  if (i >= a->argc) { a->bad = 1; return 0; }
  napi_valuetype t;
  napi_typeof(a->env, a->argv[i], &t);
  if (t == napi_bigint) {
    bool lossless;
    if (napi_get_value_bigint_int64(a->env, a->argv[i], &v, &lossless) != napi_ok) a->bad = 1;
    return v;
  }
  if (t != napi_number) { a->bad = 1; return 0; }
  double d;
  napi_get_value_double(a->env, a->argv[i], &d);
  /* Doubles above 2^63 come from unsigned 64-bit values: wrap them like C would. */
  if (d >= 9223372036854775808.0) return (int64_t)(uint64_t)d;
  return (int64_t)d;
}

static inline void *arg_buf(args_t *a, size_t i, size_t min_len) {
  void *data = NULL;
  size_t len = 0;
  bool is_ta = false;
  if (i >= a->argc) { a->bad = 1; return NULL; }
  napi_is_typedarray(a->env, a->argv[i], &is_ta);
  if (is_ta) {
    napi_typedarray_type type;
    size_t n;
    napi_value ab;
    size_t off;
    if (napi_get_typedarray_info(a->env, a->argv[i], &type, &n, &data, &ab, &off) != napi_ok) {
      a->bad = 1;
      return NULL;
    }
    size_t esz = 1;
    switch (type) {
      case napi_int16_array: case napi_uint16_array: esz = 2; break;
      case napi_int32_array: case napi_uint32_array: case napi_float32_array: esz = 4; break;
      case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: esz = 8; break;
      default: esz = 1;
    }
    len = n * esz;
  } else {
    bool is_buf = false;
    napi_is_buffer(a->env, a->argv[i], &is_buf);
    if (!is_buf || napi_get_buffer_info(a->env, a->argv[i], &data, &len) != napi_ok) {
      a->bad = 1;
      return NULL;
    }
  }
  if (len < min_len) { a->bad = 1; return NULL; }
  return data;
}

static inline napi_value num(napi_env env, double v) {
  napi_value r;
  napi_create_double(env, v, &r);
  return r;
}

#define ARGS(n)                                   \
  args_t A;                                       \
  if (get_args(env, info, &A, (n)) != 0) return num(env, -EINVAL);
#define CHECK()                                   \
  if (A.bad) return num(env, -EINVAL);

#define EXPORT(name, fn)                                                   \
  do {                                                                     \
    napi_value f_;                                                         \
    napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, NULL, &f_);      \
    napi_set_named_property(env, exports, name, f_);                       \
  } while (0)

#endif
