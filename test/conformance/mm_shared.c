/* Shared and file-backed memory across fork, close and unlink. */
#define _GNU_SOURCE
#include "check.h"
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>

static int child_status(pid_t p) {
  int st = 0;
  if (waitpid(p, &st, 0) != p) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st);
}

int main(void) {
  alarm(20);
  long pg = sysconf(_SC_PAGESIZE);

  /* Pages of a shared anonymous mapping that nobody touched before fork are shared too. */
  char *a = mmap(NULL, 8 * pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  CHECK("anon-shared-mmap", a != MAP_FAILED, "mmap");
  a[0] = 1;
  pid_t p = fork();
  if (p == 0) {
    a[5 * pg] = 42; /* untouched before fork */
    a[0] = 2;
    _exit(0);
  }
  CHECK("anon-shared-child-exit", child_status(p) == 0, "child");
  CHECK("anon-shared-untouched-page-shared", a[5 * pg] == 42, "got %d", a[5 * pg]);
  CHECK("anon-shared-touched-page-shared", a[0] == 2, "got %d", a[0]);
  CHECK("anon-shared-fresh-page-zero", a[7 * pg] == 0, "got %d", a[7 * pg]);

  /* Parent writes after fork are seen by a child that has not touched the page. */
  int pfd[2];
  CHECK("pipe", pipe(pfd) == 0, "pipe");
  p = fork();
  if (p == 0) {
    char c;
    if (read(pfd[0], &c, 1) != 1) _exit(3);
    _exit(a[6 * pg] == 77 ? 0 : 1);
  }
  a[6 * pg] = 77;
  CHECK("pipe-write", write(pfd[1], "x", 1) == 1, "write");
  CHECK("anon-shared-parent-write-seen", child_status(p) == 0, "child saw the old page");

  /* Split a shared mapping (munmap in the middle): both halves still share with a child. */
  CHECK("anon-shared-split", munmap(a + 2 * pg, pg) == 0, "munmap");
  p = fork();
  if (p == 0) {
    a[3 * pg] = 9;
    a[1 * pg] = 8;
    _exit(0);
  }
  CHECK("anon-shared-split-child", child_status(p) == 0, "child");
  CHECK("anon-shared-split-right", a[3 * pg] == 9, "got %d", a[3 * pg]);
  CHECK("anon-shared-split-left", a[1 * pg] == 8, "got %d", a[1 * pg]);
  munmap(a, 8 * pg);

  /* A file mapping keeps the file's data alive after close and unlink (shm_open style). */
  char path[] = "/dev/shm/mm_shared_XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) {
    strcpy(path, "/tmp/mm_shared_XXXXXX");
    fd = mkstemp(path);
  }
  CHECK("file-create", fd >= 0, "mkstemp");
  CHECK("file-truncate", ftruncate(fd, 4 * pg) == 0, "ftruncate");
  CHECK("file-write", pwrite(fd, "hello", 5, 2 * pg) == 5, "pwrite");
  char *s = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  char *q = mmap(NULL, 4 * pg, PROT_READ, MAP_PRIVATE, fd, 0);
  CHECK("file-mmap", s != MAP_FAILED && q != MAP_FAILED, "mmap");
  close(fd);
  unlink(path);
  CHECK("file-shared-after-unlink", memcmp(s + 2 * pg, "hello", 5) == 0, "lost data");
  CHECK("file-private-after-unlink", memcmp(q + 2 * pg, "hello", 5) == 0, "lost data");
  p = fork();
  if (p == 0) {
    if (memcmp(s + 2 * pg, "hello", 5) != 0) _exit(1);
    s[3 * pg] = 'z'; /* untouched before fork */
    _exit(0);
  }
  CHECK("file-shared-child-reads-unlinked", child_status(p) == 0, "child read other bytes");
  CHECK("file-shared-child-write-seen", s[3 * pg] == 'z', "got %d", s[3 * pg]);
  munmap(s, 4 * pg);
  munmap(q, 4 * pg);
  return 0;
}
