/* Touching a page of a file mapping that lies wholly past the end of the file is SIGBUS
 * (BUS_ADRERR, si_addr the faulting address), MAP_SHARED and MAP_PRIVATE alike; the
 * partial last page reads zeros past EOF. memfd, a /tmp file (or one in the directory
 * given) and a file of the root filesystem; ftruncate shrinking a mapped file makes its
 * tail SIGBUS, growing it again makes it readable. Unmapped memory stays SIGSEGV; the
 * kernel's own accesses get EFAULT. */
#define _GNU_SOURCE
#include "check.h"
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>

#define PG 4096

static sigjmp_buf jb;
static volatile int got_sig, got_code;
static volatile uintptr_t got_addr;

static void catcher(int s, siginfo_t *si, void *ucp) {
  (void)ucp;
  got_sig = s;
  got_code = si->si_code;
  got_addr = (uintptr_t)si->si_addr;
  siglongjmp(jb, 1);
}

static void on(int sig) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = catcher;
  sa.sa_flags = SA_SIGINFO;
  sigaction(sig, &sa, NULL);
}

/* Reads (write=0) or writes one byte at p: 0 if no signal, else the signal number. */
static int touch(volatile char *p, int write) {
  got_sig = 0;
  got_code = 0;
  got_addr = 0;
  if (sigsetjmp(jb, 1) == 0) {
    if (write) *p = 7;
    else (void)*p;
    return 0;
  }
  return got_sig;
}

/* A SIGBUS check: signal, code and address together. */
static void expect_bus(const char *name, volatile char *p, int write) {
  int s = touch(p, write);
  CHECK(name, s == SIGBUS && got_code == BUS_ADRERR && got_addr == (uintptr_t)p,
        "sig=%d code=%d addr=%lx want %lx", s, got_code, (unsigned long)got_addr, (unsigned long)(uintptr_t)p);
}

static int all_zero(const char *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != 0) return 0;
  return 1;
}

static void fill_file(int fd, size_t n) {
  char buf[PG];
  memset(buf, 'x', sizeof buf);
  for (size_t done = 0; done < n;) {
    size_t k = n - done < sizeof buf ? n - done : sizeof buf;
    if (write(fd, buf, k) != (ssize_t)k) break;
    done += k;
  }
}

static void memfd_checks(void) {
  int fd = memfd_create("sigbus", 0);
  CHECK("memfd-create", fd >= 0, "fd=%d", fd);
  fill_file(fd, PG + 100);
  char *p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  CHECK("memfd-mmap", p != MAP_FAILED, "mmap");
  CHECK("memfd-data", p[0] == 'x' && p[PG + 99] == 'x', "p[0]=%d p[4195]=%d", p[0], p[PG + 99]);
  CHECK("memfd-partial-page-zero", touch(p + PG + 100, 0) == 0 && all_zero(p + PG + 100, PG - 100), "sig=%d", got_sig);
  CHECK("memfd-partial-page-write-ok", touch(p + 2 * PG - 1, 1) == 0, "sig=%d", got_sig);
  struct stat st;
  fstat(fd, &st);
  CHECK("memfd-write-past-eof-keeps-size", st.st_size == PG + 100, "size=%ld", (long)st.st_size);
  expect_bus("memfd-read-past-eof-sigbus", p + 2 * PG + 5, 0);
  expect_bus("memfd-write-past-eof-sigbus", p + 3 * PG + 8, 1);
  /* The page stays SIGBUS (nothing got mapped by the first fault). */
  expect_bus("memfd-past-eof-sigbus-again", p + 2 * PG + 5, 0);

  /* The kernel reading a page past EOF for a syscall gets EFAULT. */
  int pfd[2];
  if (pipe(pfd) == 0) {
    errno = 0;
    ssize_t w = write(pfd[1], p + 2 * PG, 16);
    CHECK("memfd-past-eof-syscall-efault", w == -1 && errno == EFAULT, "w=%ld", (long)w);
    close(pfd[0]);
    close(pfd[1]);
  }

  /* Growing the file makes the pages readable, with zeros. */
  CHECK("memfd-grow", ftruncate(fd, 4 * PG) == 0, "ftruncate");
  CHECK("memfd-grown-readable", touch(p + 3 * PG + 8, 0) == 0 && all_zero(p + 2 * PG, 2 * PG), "sig=%d", got_sig);
  CHECK("memfd-grown-writable", touch(p + 3 * PG + 8, 1) == 0 && p[3 * PG + 8] == 7, "sig=%d", got_sig);

  /* Shrinking it takes the pages away again, though they were mapped. */
  CHECK("memfd-shrink", ftruncate(fd, PG) == 0, "ftruncate");
  expect_bus("memfd-shrunk-tail-sigbus", p + 3 * PG + 8, 0);
  expect_bus("memfd-shrunk-page1-sigbus", p + PG, 0);
  CHECK("memfd-shrunk-head-readable", touch(p, 0) == 0 && p[0] == 'x', "sig=%d", got_sig);
  CHECK("memfd-regrow", ftruncate(fd, 4 * PG) == 0, "ftruncate");
  CHECK("memfd-regrown-zero", touch(p + 3 * PG + 8, 0) == 0 && p[3 * PG + 8] == 0 && all_zero(p + PG, 3 * PG), "sig=%d", got_sig);

  /* A private mapping of the same file: past EOF is SIGBUS too, also for a write. */
  CHECK("memfd-shrink-2", ftruncate(fd, PG + 10) == 0, "ftruncate");
  char *q = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  CHECK("memfd-private-mmap", q != MAP_FAILED, "mmap");
  CHECK("memfd-private-partial-zero", touch(q + PG + 10, 0) == 0 && all_zero(q + PG + 10, PG - 10), "sig=%d", got_sig);
  expect_bus("memfd-private-read-past-eof", q + 2 * PG, 0);
  expect_bus("memfd-private-write-past-eof", q + 2 * PG + 100, 1);
  munmap(q, 3 * PG);
  munmap(p, 4 * PG);
  close(fd);
}

static void tmp_file_checks(const char *dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s/mm_sigbus_XXXXXX", dir);
  int fd = mkstemp(path);
  CHECK("tmp-create", fd >= 0, "mkstemp");
  fill_file(fd, 3 * PG);
  char *p = mmap(NULL, 5 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  CHECK("tmp-mmap", p != MAP_FAILED, "mmap");
  for (int i = 0; i < 3; i++) p[i * PG] = 'a' + i;
  expect_bus("tmp-past-eof-sigbus", p + 3 * PG + 1, 0);
  CHECK("tmp-shrink", ftruncate(fd, PG + 1) == 0, "ftruncate");
  expect_bus("tmp-shrunk-tail-sigbus", p + 2 * PG, 0);
  CHECK("tmp-shrunk-partial-zero", touch(p + PG, 0) == 0 && p[PG] == 'b' && all_zero(p + PG + 1, PG - 1), "p[PG]=%d", p[PG]);
  CHECK("tmp-regrow", ftruncate(fd, 5 * PG) == 0, "ftruncate");
  CHECK("tmp-regrown-readable", touch(p + 4 * PG, 0) == 0 && all_zero(p + 2 * PG, 3 * PG), "sig=%d", got_sig);

  /* Private copies of pages past the new end go too (Linux's truncate unmaps COW pages). */
  char *q = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  CHECK("tmp-private-mmap", q != MAP_FAILED, "mmap");
  CHECK("tmp-private-cow-write", touch(q + 2 * PG, 1) == 0 && q[2 * PG] == 7, "sig=%d", got_sig);
  CHECK("tmp-private-shrink", ftruncate(fd, PG) == 0, "ftruncate");
  expect_bus("tmp-private-cow-gone-sigbus", q + 2 * PG, 0);
  CHECK("tmp-private-head-readable", touch(q, 0) == 0 && q[0] == 'a', "q[0]=%d", q[0]);

  /* madvise and mremap leave the rule in place. */
  CHECK("tmp-madvise", madvise(q, 3 * PG, MADV_DONTNEED) == 0, "madvise");
  expect_bus("tmp-madvised-past-eof-sigbus", q + PG + 3, 0);
  CHECK("tmp-madvised-head", touch(q, 0) == 0 && q[0] == 'a', "q[0]=%d", q[0]);
  char *r = mremap(q, 3 * PG, 6 * PG, MREMAP_MAYMOVE);
  CHECK("tmp-mremap", r != MAP_FAILED, "mremap");
  if (r != MAP_FAILED) {
    expect_bus("tmp-mremapped-past-eof-sigbus", r + 5 * PG, 0);
    CHECK("tmp-mremapped-head", touch(r, 0) == 0 && r[0] == 'a', "r[0]=%d", r[0]);
    munmap(r, 6 * PG);
  }
  unlink(path);

  /* Unmapped memory is still SIGSEGV, not SIGBUS. */
  munmap(p, 5 * PG);
  int s = touch(p + 4 * PG, 0);
  CHECK("tmp-unmapped-still-segv", s == SIGSEGV && got_code == SEGV_MAPERR, "sig=%d code=%d", s, got_code);
  close(fd);
}

/* A file of the root filesystem (read-only): the mapping reaches past its end. */
static void root_file_checks(void) {
  int fd = open("/etc/passwd", O_RDONLY);
  CHECK("root-open", fd >= 0, "open");
  struct stat st;
  fstat(fd, &st);
  size_t pages = (st.st_size + PG - 1) / PG;
  for (int shared = 0; shared < 2; shared++) {
    char *p = mmap(NULL, (pages + 2) * PG, PROT_READ, shared ? MAP_SHARED : MAP_PRIVATE, fd, 0);
    CHECK(shared ? "root-shared-mmap" : "root-private-mmap", p != MAP_FAILED, "mmap");
    if (p == MAP_FAILED) continue;
    CHECK(shared ? "root-shared-partial-zero" : "root-private-partial-zero",
          touch(p, 0) == 0 && all_zero(p + st.st_size, pages * PG - st.st_size), "sig=%d", got_sig);
    expect_bus(shared ? "root-shared-past-eof-sigbus" : "root-private-past-eof-sigbus", p + (pages + 1) * PG + 17, 0);
    munmap(p, (pages + 2) * PG);
  }
  close(fd);
}

/* With a directory argument, only the file checks, on a file there (a bind mount). */
int main(int argc, char **argv) {
  alarm(60);
  on(SIGBUS);
  on(SIGSEGV);
  if (argc > 1) {
    tmp_file_checks(argv[1]);
    return 0;
  }
  memfd_checks();
  tmp_file_checks("/tmp");
  root_file_checks();
  return 0;
}
