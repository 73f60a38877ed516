/*
 * CPU time of a stub process: clock_gettime on its process CPU clock. The Sentry uses it
 * for CLOCK_PROCESS_CPUTIME_ID, times(2) and CPU-time itimers of the app it runs there.
 */
#include "napi_args.h"
#include <time.h>

/* MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED) from the kernel's posix-timers.h. */
#define PROCESS_CPUCLOCK(pid) ((clockid_t)((~(pid)) << 3) | 2)

/* cpuClockNs(pid) -> nanoseconds of CPU time used by process pid, or -errno. */
static napi_value cpu_clock_ns(napi_env env, napi_callback_info info) {
  ARGS(1);
  int64_t pid = arg_i64(&A, 0);
  CHECK();
  if (pid <= 0 || pid > 0x3fffffff) return num(env, -EINVAL);
  struct timespec ts;
  if (clock_gettime(PROCESS_CPUCLOCK((pid_t)pid), &ts) != 0) return num(env, -errno);
  return num(env, (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec);
}

void tsv_register_cpuclock(napi_env env, napi_value exports) {
  EXPORT("cpuClockNs", cpu_clock_ns);
}
