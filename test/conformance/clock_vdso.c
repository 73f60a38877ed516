/* The vDSO: present in auxv and /proc/self/maps, exporting the LINUX_2.6 time functions;
 * its clocks agree with the syscall's (interleaved reads never go backwards), absolute
 * sleeps end at or after their target whichever way the clock is read afterwards, and
 * fork keeps working clocks. */
#define _GNU_SOURCE
#include "check.h"
#include <elf.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

static int64_t ns_of(struct timespec t) { return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec; }

static int64_t sys_now(clockid_t c) {
  struct timespec t;
  syscall(SYS_clock_gettime, c, &t);
  return ns_of(t);
}

static int64_t vdso_now(clockid_t c) {
  struct timespec t;
  clock_gettime(c, &t); /* glibc goes through the vDSO when there is one */
  return ns_of(t);
}

/* Looks a symbol up in the vDSO's dynamic symbol table. */
static void *vdso_sym(const char *name) {
  const Elf64_Ehdr *eh = (const Elf64_Ehdr *)getauxval(AT_SYSINFO_EHDR);
  if (eh == NULL || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0) return NULL;
  const Elf64_Phdr *ph = (const Elf64_Phdr *)((const char *)eh + eh->e_phoff);
  uintptr_t load = 0;
  const Elf64_Dyn *dyn = NULL;
  for (int i = 0; i < eh->e_phnum; i++) {
    if (ph[i].p_type == PT_LOAD && load == 0) load = (uintptr_t)eh + ph[i].p_offset - ph[i].p_vaddr;
    if (ph[i].p_type == PT_DYNAMIC) dyn = (const Elf64_Dyn *)((const char *)eh + ph[i].p_offset);
  }
  if (dyn == NULL) return NULL;
  const Elf64_Sym *sym = NULL;
  const char *str = NULL;
  const uint32_t *hash = NULL;
  for (; dyn->d_tag != DT_NULL; dyn++) {
    if (dyn->d_tag == DT_SYMTAB) sym = (const Elf64_Sym *)(load + dyn->d_un.d_ptr);
    if (dyn->d_tag == DT_STRTAB) str = (const char *)(load + dyn->d_un.d_ptr);
    if (dyn->d_tag == DT_HASH) hash = (const uint32_t *)(load + dyn->d_un.d_ptr);
  }
  if (sym == NULL || str == NULL || hash == NULL) return NULL;
  for (uint32_t i = 0; i < hash[1]; i++) {
    if (sym[i].st_shndx != SHN_UNDEF && strcmp(str + sym[i].st_name, name) == 0) return (void *)(load + sym[i].st_value);
  }
  return NULL;
}

static int maps_has(const char *what) {
  FILE *f = fopen("/proc/self/maps", "r");
  char line[512];
  int found = 0;
  while (f != NULL && fgets(line, sizeof line, f) != NULL) {
    if (strstr(line, what) != NULL) found = 1;
  }
  if (f != NULL) fclose(f);
  return found;
}

int main(void) {
  CHECK("vdso_auxv", getauxval(AT_SYSINFO_EHDR) != 0, "no AT_SYSINFO_EHDR");
  CHECK("vdso_maps", maps_has("[vdso]") && maps_has("[vvar]"), "no [vdso]/[vvar] in /proc/self/maps");
  CHECK("vdso_symbols", vdso_sym("__vdso_clock_gettime") != NULL && vdso_sym("__vdso_gettimeofday") != NULL
        && vdso_sym("__vdso_time") != NULL && vdso_sym("__vdso_clock_getres") != NULL, "missing exports");

  /* Let a sandbox finish calibrating (it answers through the syscall until then). */
  struct timespec pause = { 0, 100 * 1000 * 1000 };
  nanosleep(&pause, NULL);

  int (*vgt)(clockid_t, struct timespec *) = (int (*)(clockid_t, struct timespec *))vdso_sym("__vdso_clock_gettime");
  struct timespec direct = { 0, 0 };
  int64_t before = sys_now(CLOCK_MONOTONIC);
  int r = vgt != NULL ? vgt(CLOCK_MONOTONIC, &direct) : -1;
  int64_t after = sys_now(CLOCK_MONOTONIC);
  CHECK("vdso_direct_call", r == 0 && ns_of(direct) >= before && ns_of(direct) <= after, "r=%d", r);

  static const clockid_t clocks[] = { CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME };
  static const char *names[] = { "vdso_interleave_monotonic", "vdso_interleave_realtime", "vdso_interleave_boottime" };
  for (int c = 0; c < 3; c++) {
    int bad = 0;
    for (int i = 0; i < 4000 && bad == 0; i++) {
      int64_t a = vdso_now(clocks[c]), b = sys_now(clocks[c]), d = vdso_now(clocks[c]);
      if (!(a <= b && b <= d)) bad = i + 1;
    }
    CHECK(names[c], bad == 0, "out of order at iteration %d", bad - 1);
  }

  struct timeval tv;
  gettimeofday(&tv, NULL);
  int64_t real = vdso_now(CLOCK_REALTIME);
  time_t tt = time(NULL);
  CHECK("vdso_gettimeofday_agrees", (int64_t)tv.tv_sec * 1000000000 + (int64_t)tv.tv_usec * 1000 <= real
        && real - ((int64_t)tv.tv_sec * 1000000000 + (int64_t)tv.tv_usec * 1000) < 1000000000, "tv %ld real %lld", (long)tv.tv_sec, (long long)real);
  CHECK("vdso_time_agrees", tt >= tv.tv_sec && tt - tv.tv_sec <= 1, "time %ld tv %ld", (long)tt, (long)tv.tv_sec);

  int late = 1;
  for (int i = 0; i < 20 && late; i++) {
    struct timespec target;
    clock_gettime(CLOCK_MONOTONIC, &target);
    target.tv_nsec += 3 * 1000 * 1000;
    if (target.tv_nsec >= 1000000000) { target.tv_sec++; target.tv_nsec -= 1000000000; }
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &target, NULL);
    late = vdso_now(CLOCK_MONOTONIC) >= ns_of(target) && sys_now(CLOCK_MONOTONIC) >= ns_of(target);
  }
  CHECK("vdso_abstime_sleep_not_early", late, "a read after an absolute sleep was before its target");

  int fds[2];
  if (pipe(fds) != 0) return 1;
  pid_t pid = fork();
  if (pid == 0) {
    int64_t a = vdso_now(CLOCK_MONOTONIC);
    int64_t b = sys_now(CLOCK_MONOTONIC);
    char ok = a > 0 && a <= b ? 'y' : 'n';
    if (write(fds[1], &ok, 1) != 1) _exit(2);
    _exit(0);
  }
  char got = 0;
  if (read(fds[0], &got, 1) != 1) got = 0;
  waitpid(pid, NULL, 0);
  CHECK("vdso_after_fork", got == 'y', "child clocks out of order (%c)", got);
  return 0;
}
