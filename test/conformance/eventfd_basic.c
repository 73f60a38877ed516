// eventfd: counter, semaphore mode, non-blocking, limits, poll readiness, blocking wake-up.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK(name, cond) do { if (cond) printf("ok %s\n", name); \
  else printf("FAIL %s: errno=%d (%s)\n", name, errno, strerror(errno)); } while (0)

static int rd(int fd, uint64_t *v) { return (int)read(fd, v, 8); }
static int wr(int fd, uint64_t v) { return (int)write(fd, &v, 8); }
static short revents(int fd) {
  struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT };
  return poll(&p, 1, 0) < 0 ? -1 : p.revents;
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  alarm(20);
  uint64_t v = 0;
  int fd = eventfd(0, EFD_NONBLOCK);
  CHECK("eventfd_create", fd >= 0);
  CHECK("eventfd_flags_rdwr_nonblock", fcntl(fd, F_GETFL) == (O_RDWR | O_NONBLOCK));
  CHECK("eventfd_read_empty_eagain", rd(fd, &v) == -1 && errno == EAGAIN);
  CHECK("eventfd_poll_empty_writable_only", revents(fd) == POLLOUT);
  CHECK("eventfd_write_adds", wr(fd, 1) == 8 && wr(fd, 2) == 8);
  CHECK("eventfd_poll_ready_both", revents(fd) == (POLLIN | POLLOUT));
  CHECK("eventfd_read_sum_and_reset", rd(fd, &v) == 8 && v == 3);
  CHECK("eventfd_read_after_reset_eagain", rd(fd, &v) == -1 && errno == EAGAIN);
  CHECK("eventfd_write_max_u64_einval", wr(fd, UINT64_MAX) == -1 && errno == EINVAL);
  uint32_t small = 1;
  CHECK("eventfd_short_write_einval", write(fd, &small, 4) == -1 && errno == EINVAL);
  CHECK("eventfd_short_read_einval", read(fd, &small, 4) == -1 && errno == EINVAL);
  CHECK("eventfd_fill_to_max", wr(fd, UINT64_MAX - 1) == 8);
  CHECK("eventfd_overflow_write_eagain", wr(fd, 1) == -1 && errno == EAGAIN);
  CHECK("eventfd_poll_full_readable_only", revents(fd) == POLLIN);
  CHECK("eventfd_read_max", rd(fd, &v) == 8 && v == UINT64_MAX - 1);
  CHECK("eventfd_write_zero_ok", wr(fd, 0) == 8 && rd(fd, &v) == -1 && errno == EAGAIN);
  close(fd);

  int s = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC);
  CHECK("eventfd_semaphore_create", s >= 0);
  CHECK("eventfd_cloexec", (fcntl(s, F_GETFD) & FD_CLOEXEC) != 0);
  int ones = 0;
  for (int i = 0; i < 3; i++) if (rd(s, &v) == 8 && v == 1) ones++;
  CHECK("eventfd_semaphore_reads_one", ones == 3);
  CHECK("eventfd_semaphore_exhausted", rd(s, &v) == -1 && errno == EAGAIN);
  close(s);

  errno = 0;
  CHECK("eventfd_bad_flags_einval", eventfd(0, 0x4000000) == -1 && errno == EINVAL);

  struct stat st;
  int b = eventfd(0, 0);
  CHECK("eventfd_fstat_anon", fstat(b, &st) == 0 && (st.st_mode & S_IFMT) == 0 && (st.st_mode & 0777) == 0600);
  pid_t child = fork();
  if (child == 0) {
    wr(b, 42);
    _exit(0);
  }
  CHECK("eventfd_blocking_read_woken_by_child", rd(b, &v) == 8 && v == 42);
  int status;
  waitpid(child, &status, 0);
  CHECK("eventfd_child_exit", WIFEXITED(status) && WEXITSTATUS(status) == 0);
  close(b);
  return 0;
}
