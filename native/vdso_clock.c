/*
 * The Sentry's side of the vDSO clock: it reads the clocks with the very code the vDSO
 * runs (vdso/vdso_params.h) over the same parameter page, so a syscall and a vDSO call
 * never disagree, and it samples TSC and host clocks together for calibration.
 */
#include "napi_args.h"
#include "vdso/vdso_params.h"
#include <time.h>

static const volatile struct tsv_vdso_params *attached;

/* vdsoClockAttach(page: Uint8Array of 4096 bytes, page aligned) -> 0 or -errno. The page
 * must stay mapped for the life of the process (it is the memory file's). */
static napi_value vdso_clock_attach(napi_env env, napi_callback_info info) {
  ARGS(1);
  void *p = arg_buf(&A, 0, 4096);
  CHECK();
  if (((uintptr_t)p & 4095) != 0) return num(env, -EINVAL);
  attached = (const volatile struct tsv_vdso_params *)p;
  return num(env, 0);
}

/* vdsoClockRead(clk) -> bigint ns from the page, or undefined when the kernel must answer. */
static napi_value vdso_clock_read(napi_env env, napi_callback_info info) {
  ARGS(1);
  int64_t clk = arg_i64(&A, 0);
  CHECK();
  int64_t ns;
  napi_value r;
  if (attached == NULL || clk < 0 || clk > 64 || tsv_vdso_read(attached, (int)clk, &ns) != 0) {
    napi_get_undefined(env, &r);
    return r;
  }
  napi_create_bigint_int64(env, ns, &r);
  return r;
}

static int64_t host_ns(clockid_t c) {
  struct timespec ts;
  clock_gettime(c, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* clock c minus CLOCK_MONOTONIC, the monotonic read taken on both sides of c's. */
static int64_t offset_from_monotonic(clockid_t c) {
  int64_t a = host_ns(CLOCK_MONOTONIC);
  int64_t v = host_ns(c);
  int64_t b = host_ns(CLOCK_MONOTONIC);
  return v - (a + (b - a) / 2);
}

/* vdsoClockSample(out: BigInt64Array(4)) -> 0: [tsc, monotonic, realtime, boottime], the TSC
 * taken as the midpoint around the monotonic read. */
static napi_value vdso_clock_sample(napi_env env, napi_callback_info info) {
  ARGS(1);
  int64_t *out = arg_buf(&A, 0, 32);
  CHECK();
  uint64_t t1 = tsv_rdtsc_ordered();
  int64_t mono = host_ns(CLOCK_MONOTONIC);
  uint64_t t2 = tsv_rdtsc_ordered();
  out[0] = (int64_t)(t1 + (t2 - t1) / 2);
  out[1] = mono;
  out[2] = mono + offset_from_monotonic(CLOCK_REALTIME);
  out[3] = mono + offset_from_monotonic(CLOCK_BOOTTIME);
  return num(env, 0);
}

/* hostClockNs(clk) -> bigint ns of the host clock (REALTIME, MONOTONIC, BOOTTIME only). */
static napi_value host_clock_ns(napi_env env, napi_callback_info info) {
  ARGS(1);
  int64_t clk = arg_i64(&A, 0);
  CHECK();
  if (clk != CLOCK_REALTIME && clk != CLOCK_MONOTONIC && clk != CLOCK_BOOTTIME) return num(env, -EINVAL);
  napi_value r;
  napi_create_bigint_int64(env, host_ns((clockid_t)clk), &r);
  return r;
}

void tsv_register_vdso_clock(napi_env env, napi_value exports) {
  EXPORT("vdsoClockAttach", vdso_clock_attach);
  EXPORT("vdsoClockRead", vdso_clock_read);
  EXPORT("vdsoClockSample", vdso_clock_sample);
  EXPORT("hostClockNs", host_clock_ns);
}
