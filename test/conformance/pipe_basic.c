// pipes: pipe2 flags, non-blocking reads and writes, capacity, EOF, EPIPE/SIGPIPE,
// FIONREAD, fstat, atomic writes up to PIPE_BUF, blocking reader woken by a child.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK(name, cond) do { if (cond) printf("ok %s\n", name); \
  else printf("FAIL %s: errno=%d (%s)\n", name, errno, strerror(errno)); } while (0)

static volatile sig_atomic_t pipes;
static void on_pipe(int sig) { (void)sig; pipes++; }
static char big[70000];

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  alarm(20);
  int p[2];
  CHECK("pipe_create", pipe(p) == 0 && p[0] >= 0 && p[1] >= 0);
  CHECK("pipe_flags", fcntl(p[0], F_GETFL) == O_RDONLY && fcntl(p[1], F_GETFL) == O_WRONLY);
  struct stat st;
  CHECK("pipe_fstat_fifo", fstat(p[0], &st) == 0 && S_ISFIFO(st.st_mode));
  CHECK("pipe_write_read_end_ebadf", write(p[0], "x", 1) == -1 && errno == EBADF);
  CHECK("pipe_read_write_end_ebadf", read(p[1], big, 1) == -1 && errno == EBADF);
  CHECK("pipe_write", write(p[1], "hello", 5) == 5);
  int n = -1;
  CHECK("pipe_fionread", ioctl(p[0], FIONREAD, &n) == 0 && n == 5);
  char b[8] = { 0 };
  CHECK("pipe_partial_read", read(p[0], b, 3) == 3 && memcmp(b, "hel", 3) == 0);
  CHECK("pipe_rest_read", read(p[0], b, 8) == 2 && memcmp(b, "lo", 2) == 0);
  CHECK("pipe_zero_length_read", read(p[0], b, 0) == 0);
  close(p[0]);
  close(p[1]);

  CHECK("pipe2_bad_flags_einval", pipe2(p, O_APPEND) == -1 && errno == EINVAL);
  CHECK("pipe2_nonblock_cloexec", pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0 &&
    (fcntl(p[0], F_GETFL) & O_NONBLOCK) && (fcntl(p[1], F_GETFD) & FD_CLOEXEC));
  CHECK("pipe_nonblock_empty_eagain", read(p[0], b, 1) == -1 && errno == EAGAIN);
  int total = 0, w;
  while ((w = write(p[1], big, 4096)) > 0) total += w;
  CHECK("pipe_capacity_64k", total == 65536 && errno == EAGAIN);
  CHECK("pipe_full_small_write_eagain", write(p[1], "x", 1) == -1 && errno == EAGAIN);
  CHECK("pipe_drain_one_page", read(p[0], big, 4096) == 4096);
  CHECK("pipe_atomic_write_fits_freed_page", write(p[1], big, PIPE_BUF) == PIPE_BUF);
  CHECK("pipe_full_again_eagain", write(p[1], big, 1) == -1 && errno == EAGAIN);
  while (read(p[0], big, sizeof big) > 0) {}
  close(p[1]);
  CHECK("pipe_eof_after_writer_close", read(p[0], b, 1) == 0);
  close(p[0]);

  (void)!pipe(p);
  close(p[0]);
  signal(SIGPIPE, SIG_IGN);
  CHECK("pipe_no_reader_epipe", write(p[1], "x", 1) == -1 && errno == EPIPE);
  signal(SIGPIPE, on_pipe);
  CHECK("pipe_sigpipe_delivered", write(p[1], "x", 1) == -1 && errno == EPIPE && pipes == 1);
  close(p[1]);

  (void)!pipe(p);
  pid_t c = fork();
  if (c == 0) {
    close(p[0]);
    (void)!write(p[1], "from child", 10);
    _exit(0);
  }
  close(p[1]);
  n = read(p[0], big, sizeof big);
  CHECK("pipe_blocking_read_woken", n == 10 && memcmp(big, "from child", 10) == 0);
  int status;
  waitpid(c, &status, 0);
  CHECK("pipe_eof_after_child_exit", read(p[0], big, 1) == 0);
  close(p[0]);
  return 0;
}
