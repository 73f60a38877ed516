/* mlock family: range checks, VmLck accounting, RLIMIT_MEMLOCK without CAP_IPC_LOCK. */
#define _GNU_SOURCE
#include "check.h"
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static long vmlck_kb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  if (f == NULL) return -1;
  char line[256];
  long kb = -1;
  while (fgets(line, sizeof line, f) != NULL)
    if (sscanf(line, "VmLck: %ld kB", &kb) == 1) break;
  fclose(f);
  return kb;
}

int main(void) {
  alarm(20);
  long pg = sysconf(_SC_PAGESIZE);
  char *m = mmap(NULL, 8 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK("mmap", m != MAP_FAILED, "mmap");
  long base = vmlck_kb();
  CHECK("vmlck-readable", base >= 0, "no VmLck line");
  CHECK("mlock", mlock(m + 10, 2 * pg) == 0, "mlock");
  /* an unaligned start rounds down and the end up: three pages */
  CHECK("mlock-vmlck-rounded", vmlck_kb() - base == 3 * pg / 1024, "got %ld", vmlck_kb() - base);
  CHECK("mlock-again-no-double-count", mlock(m, pg) == 0 && vmlck_kb() - base == 3 * pg / 1024, "got %ld", vmlck_kb() - base);
  CHECK("munlock-middle", munlock(m + pg, pg) == 0 && vmlck_kb() - base == 2 * pg / 1024, "got %ld", vmlck_kb() - base);
  CHECK("munmap-drops-lock", munmap(m, pg) == 0 && vmlck_kb() - base == pg / 1024, "got %ld", vmlck_kb() - base);
  CHECK("munlock-rest", munlock(m + pg, 7 * pg) == 0 && vmlck_kb() == base, "got %ld", vmlck_kb());
  errno = 0;
  CHECK("mlock-unmapped-ENOMEM", mlock(m, pg) == -1 && errno == ENOMEM, "mlock of a hole");
  errno = 0;
  CHECK("munlock-unmapped-ENOMEM", munlock(m, 2 * pg) == -1 && errno == ENOMEM, "munlock of a hole");
  errno = 0;
  CHECK("mlock2-bad-flags-EINVAL", syscall(SYS_mlock2, m + pg, pg, 2) == -1 && errno == EINVAL, "mlock2");
  CHECK("mlock2-onfault", syscall(SYS_mlock2, m + pg, pg, 1) == 0 && vmlck_kb() - base == pg / 1024, "got %ld", vmlck_kb() - base);
  CHECK("mlock-zero-len", mlock(m + pg, 0) == 0, "mlock 0");
  errno = 0;
  CHECK("mlockall-zero-EINVAL", mlockall(0) == -1 && errno == EINVAL, "mlockall(0)");
  errno = 0;
  CHECK("mlockall-onfault-alone-EINVAL", mlockall(MCL_ONFAULT) == -1 && errno == EINVAL, "mlockall(MCL_ONFAULT)");
  errno = 0;
  CHECK("mlockall-bad-flag-EINVAL", mlockall(8) == -1 && errno == EINVAL, "mlockall(8)");
  CHECK("mlockall-future", mlockall(MCL_FUTURE) == 0, "mlockall");
  long before = vmlck_kb();
  char *n = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK("mcl-future-locks-new-mapping", n != MAP_FAILED && vmlck_kb() - before == 4 * pg / 1024, "got %ld", vmlck_kb() - before);
  CHECK("munlockall", munlockall() == 0 && vmlck_kb() == 0, "got %ld", vmlck_kb());
  char *o = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK("munlockall-ends-future", o != MAP_FAILED && vmlck_kb() == 0, "got %ld", vmlck_kb());
  CHECK("mlockall-current", mlockall(MCL_CURRENT) == 0 && vmlck_kb() > 0, "got %ld", vmlck_kb());
  CHECK("munlockall-again", munlockall() == 0 && vmlck_kb() == 0, "got %ld", vmlck_kb());

  /* Locks are not inherited by fork. */
  CHECK("relock", mlock(n, pg) == 0, "mlock");
  int p[2];
  CHECK("pipe", pipe(p) == 0, "pipe");
  pid_t c = fork();
  if (c == 0) {
    long v = vmlck_kb();
    if (write(p[1], &v, sizeof v) != sizeof v) _exit(1);
    _exit(0);
  }
  long childv = -2;
  CHECK("fork-read", read(p[0], &childv, sizeof childv) == sizeof childv, "read");
  waitpid(c, NULL, 0);
  CHECK("fork-does-not-inherit-locks", childv == 0, "child VmLck %ld", childv);
  munlock(n, pg);

  /* Without CAP_IPC_LOCK, RLIMIT_MEMLOCK bounds what may be locked. */
  c = fork();
  if (c == 0) {
    struct rlimit rl = {2 * pg, 2 * pg};
    if (setrlimit(RLIMIT_MEMLOCK, &rl) != 0) _exit(10);
    if (getuid() == 0 && setuid(65534) != 0) _exit(11);
    if (mlock(n, 2 * pg) != 0) _exit(12);
    errno = 0;
    if (mlock(n + 2 * pg, pg) != -1 || errno != ENOMEM) _exit(13);
    if (munlock(n, 2 * pg) != 0) _exit(14);
    struct rlimit zero = {0, 0};
    if (setrlimit(RLIMIT_MEMLOCK, &zero) != 0) _exit(15);
    errno = 0;
    if (mlock(n, pg) != -1 || errno != EPERM) _exit(16);
    errno = 0;
    if (mlockall(MCL_CURRENT) != -1 || errno != EPERM) _exit(17);
    _exit(0);
  }
  int st = 0;
  waitpid(c, &st, 0);
  CHECK("rlimit-memlock-without-cap", WIFEXITED(st) && WEXITSTATUS(st) == 0, "child step %d", WEXITSTATUS(st));
  return 0;
}
