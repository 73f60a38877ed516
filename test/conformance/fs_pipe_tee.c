/* tee(2) between pipes, and FIFOs opened O_RDWR (one description holding both ends). */
#include "fs_check.h"
#include <poll.h>
#include <sys/ioctl.h>

int main(void) {
  setup();
  char buf[256];
  int a[2], b[2], c[2];
  pipe(a);
  pipe(b);
  write(a[1], "hello world", 11);

  CHECK("tee_copies", tee(a[0], b[1], 100, 0) == 11);
  memset(buf, 0, sizeof buf);
  CHECK("tee_target_has_data", read(b[0], buf, sizeof buf) == 11 && memcmp(buf, "hello world", 11) == 0);
  int avail = -1;
  CHECK("tee_source_keeps_data", ioctl(a[0], FIONREAD, &avail) == 0 && avail == 11);
  CHECK("tee_len_limits", tee(a[0], b[1], 5, 0) == 5 && read(b[0], buf, sizeof buf) == 5 && memcmp(buf, "hello", 5) == 0);
  memset(buf, 0, sizeof buf);
  CHECK("source_reads_all_after_tee", read(a[0], buf, sizeof buf) == 11 && memcmp(buf, "hello world", 11) == 0);
  CHECK_ERR("tee_empty_nonblock", tee(a[0], b[1], 10, SPLICE_F_NONBLOCK), EAGAIN);
  CHECK("tee_zero_len", tee(a[0], b[1], 0, 0) == 0);
  CHECK_ERR("tee_same_pipe", tee(a[0], a[1], 10, 0), EINVAL);
  int fd = open("plain", O_RDWR | O_CREAT, 0644);
  CHECK_ERR("tee_from_file", tee(fd, b[1], 10, 0), EINVAL);
  CHECK_ERR("tee_to_file", tee(a[0], fd, 10, 0), EINVAL);
  CHECK_ERR("tee_bad_fd", tee(999, b[1], 10, 0), EBADF);
  CHECK_ERR("tee_wrong_ends", tee(a[1], b[0], 10, 0), EBADF);
  close(fd);
  /* Several writes come through in order; a closed writer with no data gives 0. */
  pipe(c);
  write(c[1], "ab", 2);
  write(c[1], "cd", 2);
  CHECK("tee_across_writes", tee(c[0], b[1], 3, 0) == 3 && read(b[0], buf, sizeof buf) == 3 && memcmp(buf, "abc", 3) == 0);
  read(c[0], buf, sizeof buf);
  close(c[1]);
  CHECK("tee_eof", tee(c[0], b[1], 10, 0) == 0);
  close(c[0]);
  signal(SIGPIPE, SIG_IGN);
  write(a[1], "x", 1);
  close(b[0]);
  CHECK_ERR("tee_no_reader", tee(a[0], b[1], 1, 0), EPIPE);

  CHECK("mkfifo", mkfifo("fifo", 0644) == 0);
  int rw = open("fifo", O_RDWR);
  CHECK("fifo_open_rdwr_no_wait", rw >= 0);
  CHECK("fifo_rdwr_flags", (fcntl(rw, F_GETFL) & O_ACCMODE) == O_RDWR);
  CHECK("fifo_rdwr_roundtrip", write(rw, "ping", 4) == 4 && read(rw, buf, sizeof buf) == 4 && memcmp(buf, "ping", 4) == 0);
  struct pollfd p = { .fd = rw, .events = POLLIN | POLLOUT };
  CHECK("fifo_rdwr_poll_writable_only", poll(&p, 1, 0) == 1 && p.revents == POLLOUT);
  int wr = open("fifo", O_WRONLY | O_NONBLOCK);
  CHECK("fifo_writer_sees_reader", wr >= 0);
  CHECK("fifo_writer_to_rdwr", write(wr, "pong", 4) == 4 && read(rw, buf, sizeof buf) == 4 && memcmp(buf, "pong", 4) == 0);
  close(wr);
  fcntl(rw, F_SETFL, O_NONBLOCK);
  CHECK_ERR("fifo_rdwr_empty_nonblock", read(rw, buf, sizeof buf), EAGAIN);
  int rd = open("fifo", O_RDONLY | O_NONBLOCK);
  CHECK("fifo_reader_from_rdwr", write(rw, "data", 4) == 4 && read(rd, buf, sizeof buf) == 4 && memcmp(buf, "data", 4) == 0);
  close(rd);
  close(rw);
  CHECK_ERR("fifo_no_reader_after_close", open("fifo", O_WRONLY | O_NONBLOCK), ENXIO);
  return 0;
}
