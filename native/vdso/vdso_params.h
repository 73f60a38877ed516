/*
 * The page the Sentry shares with every application's vDSO (mapped read-only as [vvar]
 * just below the vDSO text). Readers retry while seq is odd or changes under them
 * (a seqlock); the Sentry rebases the clocks a few times a second.
 */
#ifndef TSV_VDSO_PARAMS_H
#define TSV_VDSO_PARAMS_H
#include <stdint.h>

struct tsv_vdso_params {
  uint32_t seq;        /* odd while the Sentry writes */
  uint32_t ready;      /* 0: not calibrated yet, answer with the syscall */
  uint64_t tsc_base;   /* TSC at which the bases below were taken */
  int64_t mono_ns;     /* CLOCK_MONOTONIC at tsc_base */
  int64_t real_ns;     /* CLOCK_REALTIME at tsc_base */
  int64_t boot_ns;     /* CLOCK_BOOTTIME at tsc_base */
  uint64_t mult;       /* ns = ((tsc - tsc_base) * mult) >> 32 */
};

/* Byte offsets, for the TypeScript side (sentry/time/vdso_clock.ts). */
#define TSV_VDSO_OFF_SEQ 0
#define TSV_VDSO_OFF_READY 4
#define TSV_VDSO_OFF_TSC 8
#define TSV_VDSO_OFF_MONO 16
#define TSV_VDSO_OFF_REAL 24
#define TSV_VDSO_OFF_BOOT 32
#define TSV_VDSO_OFF_MULT 40

#define TSV_CLOCK_REALTIME 0
#define TSV_CLOCK_MONOTONIC 1
#define TSV_CLOCK_MONOTONIC_RAW 4
#define TSV_CLOCK_REALTIME_COARSE 5
#define TSV_CLOCK_MONOTONIC_COARSE 6
#define TSV_CLOCK_BOOTTIME 7

static inline uint64_t tsv_rdtsc_ordered(void) {
  uint32_t lo, hi;
  __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
  return ((uint64_t)hi << 32) | lo;
}

/*
 * The clock's value in ns from the params, or -1 when the caller must ask the kernel
 * (not calibrated, a clock we don't compute, or a writer in progress). Shared verbatim by
 * the vDSO and the Sentry, so both give the same answer for the same TSC reading.
 */
static inline int tsv_vdso_read(const volatile struct tsv_vdso_params *p, int clk, int64_t *out) {
  uint32_t seq;
  int64_t base;
  uint64_t tsc_base, mult, tsc;
  switch (clk) {
  case TSV_CLOCK_REALTIME: case TSV_CLOCK_REALTIME_COARSE:
  case TSV_CLOCK_MONOTONIC: case TSV_CLOCK_MONOTONIC_RAW: case TSV_CLOCK_MONOTONIC_COARSE:
  case TSV_CLOCK_BOOTTIME:
    break;
  default:
    return -1;
  }
  seq = p->seq;
  __asm__ volatile("" ::: "memory");
  if ((seq & 1) != 0 || p->ready == 0) return -1;
  tsc_base = p->tsc_base;
  mult = p->mult;
  base = clk == TSV_CLOCK_REALTIME || clk == TSV_CLOCK_REALTIME_COARSE ? p->real_ns
       : clk == TSV_CLOCK_BOOTTIME ? p->boot_ns : p->mono_ns;
  tsc = tsv_rdtsc_ordered();
  __asm__ volatile("" ::: "memory");
  if (p->seq != seq) return -1;
  /* A TSC a hair behind the base (read on another core) counts as no time passed. */
  uint64_t d = tsc > tsc_base ? tsc - tsc_base : 0;
  *out = base + (int64_t)(((unsigned __int128)d * mult) >> 32);
  return 0;
}
#endif
