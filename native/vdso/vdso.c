/*
 * tsvisor's vDSO: clock_gettime, gettimeofday and time answered in user space from the
 * TSC and the Sentry's parameter page, so the commonest syscalls of many programs cost
 * nanoseconds instead of a ptrace round trip. Anything else makes the real syscall, which
 * traps to the Sentry like every other. Built with -nostdlib; no relocations allowed.
 */
#include <stddef.h>
#include <stdint.h>
#include "vdso_params.h"

struct kernel_timespec { int64_t tv_sec; int64_t tv_nsec; };
struct kernel_timeval { int64_t tv_sec; int64_t tv_usec; };

/* Placed by vdso.lds one page below the text: the [vvar] page. */
extern const volatile struct tsv_vdso_params vvar_page __attribute__((visibility("hidden")));

static long raw_syscall2(long nr, long a, long b) {
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "0"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
  return ret;
}

int __vdso_clock_gettime(int clk, struct kernel_timespec *ts) {
  int64_t ns;
  if (tsv_vdso_read(&vvar_page, clk, &ns) != 0) return (int)raw_syscall2(228, clk, (long)ts);
  ts->tv_sec = ns / 1000000000;
  ts->tv_nsec = ns % 1000000000;
  return 0;
}

int __vdso_gettimeofday(struct kernel_timeval *tv, void *tz) {
  int64_t ns;
  if (tz != NULL || tsv_vdso_read(&vvar_page, TSV_CLOCK_REALTIME, &ns) != 0) return (int)raw_syscall2(96, (long)tv, (long)tz);
  if (tv != NULL) {
    tv->tv_sec = ns / 1000000000;
    tv->tv_usec = (ns % 1000000000) / 1000;
  }
  return 0;
}

int64_t __vdso_time(int64_t *t) {
  int64_t ns;
  if (tsv_vdso_read(&vvar_page, TSV_CLOCK_REALTIME, &ns) != 0) return raw_syscall2(201, (long)t, 0);
  int64_t s = ns / 1000000000;
  if (t != NULL) *t = s;
  return s;
}

int __vdso_clock_getres(int clk, struct kernel_timespec *res) {
  return (int)raw_syscall2(229, clk, (long)res);
}

int __vdso_getcpu(unsigned *cpu, unsigned *node, void *unused) {
  return (int)raw_syscall2(309, (long)cpu, (long)node);
}

int clock_gettime(int, struct kernel_timespec *) __attribute__((weak, alias("__vdso_clock_gettime")));
int gettimeofday(struct kernel_timeval *, void *) __attribute__((weak, alias("__vdso_gettimeofday")));
int64_t time(int64_t *) __attribute__((weak, alias("__vdso_time")));
int clock_getres(int, struct kernel_timespec *) __attribute__((weak, alias("__vdso_clock_getres")));
int getcpu(unsigned *, unsigned *, void *) __attribute__((weak, alias("__vdso_getcpu")));
