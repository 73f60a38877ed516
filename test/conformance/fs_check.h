/* Shared helpers of the fs_*.c conformance programs: one line per check, a scratch
 * directory under /tmp removed at exit, and an alarm so a hang fails the file. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char scratch[64];

#define CHECK(name, cond) do { \
    errno = 0; \
    if (cond) printf("ok %s\n", name); \
    else printf("FAIL %s: line %d errno=%d (%s)\n", name, __LINE__, errno, strerror(errno)); \
    fflush(stdout); \
  } while (0)

/* call must fail with -1 and errno e. */
#define CHECK_ERR(name, call, e) do { \
    errno = 0; \
    long _r = (long)(call); \
    int _e = errno; \
    if (_r == -1 && _e == (e)) printf("ok %s\n", name); \
    else printf("FAIL %s: line %d ret=%ld errno=%d (%s) want %d (%s)\n", name, __LINE__, _r, _e, strerror(_e), (e), strerror(e)); \
    fflush(stdout); \
  } while (0)

static int rm_one(const char *p, const struct stat *st, int type, struct FTW *f) {
  (void)st; (void)type; (void)f;
  return remove(p);
}

static void cleanup(void) {
  if (scratch[0] != 0) nftw(scratch, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Makes and enters a fresh scratch directory. */
static void setup(void) {
  alarm(60);
  setvbuf(stdout, NULL, _IOLBF, 0);
  umask(022);
  strcpy(scratch, "/tmp/fsconf.XXXXXX");
  if (mkdtemp(scratch) == NULL || chdir(scratch) != 0) {
    printf("FAIL setup: %s\n", strerror(errno));
    exit(1);
  }
  atexit(cleanup);
}

static int write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return -1;
  ssize_t n = write(fd, text, strlen(text));
  close(fd);
  return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* Reads a whole small file into buf (NUL-terminated); returns its length or -1. */
static ssize_t read_file(const char *path, char *buf, size_t size) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  ssize_t total = 0, n;
  while ((n = read(fd, buf + total, size - 1 - total)) > 0) total += n;
  close(fd);
  if (n < 0) return -1;
  buf[total] = 0;
  return total;
}
