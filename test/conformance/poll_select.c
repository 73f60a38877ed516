// poll, ppoll, select, pselect: readiness of pipe ends, HUP/ERR/NVAL, timeouts, argument
// errors, remaining-time updates and the temporary signal masks of ppoll/pselect.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHECK(name, cond) do { if (cond) printf("ok %s\n", name); \
  else printf("FAIL %s: errno=%d (%s)\n", name, errno, strerror(errno)); } while (0)

static volatile sig_atomic_t usr1;
static void on_usr1(int sig) { (void)sig; usr1++; }

static int blocked(int sig) {
  sigset_t cur;
  sigprocmask(SIG_BLOCK, NULL, &cur);
  return sigismember(&cur, sig);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  alarm(20);
  int p[2];
  (void)!pipe(p);
  struct pollfd f[3];
  CHECK("poll_no_fds", poll(NULL, 0, 0) == 0);
  f[0] = (struct pollfd){ .fd = p[0], .events = POLLIN };
  CHECK("poll_empty_pipe_timeout", poll(f, 1, 30) == 0 && f[0].revents == 0);
  (void)!write(p[1], "x", 1);
  CHECK("poll_pipe_readable", poll(f, 1, 0) == 1 && f[0].revents == POLLIN);
  f[0].events = POLLOUT;
  CHECK("poll_unrequested_events_hidden", poll(f, 1, 0) == 0 && f[0].revents == 0);
  f[0] = (struct pollfd){ .fd = p[1], .events = POLLOUT };
  CHECK("poll_pipe_writable", poll(f, 1, 0) == 1 && f[0].revents == POLLOUT);
  f[0] = (struct pollfd){ .fd = 999, .events = POLLIN };
  f[1] = (struct pollfd){ .fd = -1, .events = POLLIN, .revents = 77 };
  CHECK("poll_bad_fd_nval", poll(f, 2, 0) == 1 && f[0].revents == POLLNVAL && f[1].revents == 0);
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  CHECK("poll_too_many_fds_einval", poll(f, rl.rlim_cur + 1, 0) == -1 && errno == EINVAL);
  CHECK("poll_bad_pointer_efault", poll((struct pollfd *)8, 1, 0) == -1 && errno == EFAULT);

  int q[2];
  (void)!pipe(q);
  close(q[1]);
  f[0] = (struct pollfd){ .fd = q[0], .events = POLLIN };
  CHECK("poll_writer_closed_hup", poll(f, 1, 0) == 1 && f[0].revents == POLLHUP);
  close(q[0]);
  (void)!pipe(q);
  close(q[0]);
  f[0] = (struct pollfd){ .fd = q[1], .events = POLLOUT };
  CHECK("poll_reader_closed_err", poll(f, 1, 0) == 1 && (f[0].revents & POLLERR));
  close(q[1]);

  (void)!pipe(q);
  pid_t c = fork();
  if (c == 0) {
    (void)!write(q[1], "y", 1);
    _exit(0);
  }
  f[0] = (struct pollfd){ .fd = q[0], .events = POLLIN };
  CHECK("poll_blocking_woken", poll(f, 1, 10000) == 1 && f[0].revents == POLLIN);
  waitpid(c, NULL, 0);

  struct timespec ts = { 0, 1000000000L };
  CHECK("ppoll_bad_timespec_einval", ppoll(f, 1, &ts, NULL) == -1 && errno == EINVAL);
  CHECK("ppoll_null_timeout_ready", ppoll(f, 1, NULL, NULL) == 1);

  struct sigaction sa = { .sa_handler = on_usr1 };
  sigaction(SIGUSR1, &sa, NULL);
  sigset_t block, empty;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  sigemptyset(&empty);
  sigprocmask(SIG_BLOCK, &block, NULL);
  raise(SIGUSR1);
  CHECK("ppoll_pending_stays_blocked", usr1 == 0);
  f[0] = (struct pollfd){ .fd = p[1], .events = 0 };
  ts = (struct timespec){ 5, 0 };
  int r = ppoll(f, 1, &ts, &empty);
  CHECK("ppoll_sigmask_unblocks_eintr", r == -1 && errno == EINTR && usr1 == 1);
  CHECK("ppoll_sigmask_restored", blocked(SIGUSR1));
  raise(SIGUSR1);
  fd_set rs;
  FD_ZERO(&rs);
  FD_SET(q[1], &rs);
  r = pselect(q[1] + 1, &rs, NULL, NULL, &ts, &empty);
  CHECK("pselect_sigmask_unblocks_eintr", r == -1 && errno == EINTR && usr1 == 2);
  CHECK("pselect_sigmask_restored", blocked(SIGUSR1));
  sigprocmask(SIG_UNBLOCK, &block, NULL);

  char b;
  (void)!read(q[0], &b, 1);
  FD_ZERO(&rs);
  FD_SET(p[0], &rs);
  FD_SET(q[0], &rs);
  struct timeval tv = { 0, 0 };
  r = select(q[0] + 1, &rs, NULL, NULL, &tv);
  CHECK("select_readable_set", r == 1 && FD_ISSET(p[0], &rs) && !FD_ISSET(q[0], &rs));
  fd_set ws;
  FD_ZERO(&ws);
  FD_SET(p[1], &ws);
  FD_ZERO(&rs);
  FD_SET(p[0], &rs);
  r = select(p[1] + 1, &rs, &ws, NULL, NULL);
  CHECK("select_read_and_write", r == 2 && FD_ISSET(p[0], &rs) && FD_ISSET(p[1], &ws));
  FD_ZERO(&rs);
  FD_SET(q[0], &rs);
  tv = (struct timeval){ 0, 30000 };
  r = select(q[0] + 1, &rs, NULL, NULL, &tv);
  CHECK("select_timeout_clears_sets", r == 0 && !FD_ISSET(q[0], &rs));
  CHECK("select_timeout_updated_to_zero", tv.tv_sec == 0 && tv.tv_usec == 0);
  FD_ZERO(&rs);
  FD_SET(40, &rs);
  tv = (struct timeval){ 0, 0 };
  CHECK("select_bad_fd_ebadf", select(41, &rs, NULL, NULL, &tv) == -1 && errno == EBADF);
  CHECK("select_negative_nfds_einval", select(-1, NULL, NULL, NULL, &tv) == -1 && errno == EINVAL);
  tv = (struct timeval){ 0, -1 };
  CHECK("select_negative_timeval_einval", select(0, NULL, NULL, NULL, &tv) == -1 && errno == EINVAL);
  FD_ZERO(&rs);
  FD_SET(p[0], &rs);
  ts = (struct timespec){ 0, 0 };
  CHECK("pselect_no_mask", pselect(p[0] + 1, &rs, NULL, NULL, &ts, NULL) == 1);
  close(q[1]);
  FD_ZERO(&rs);
  FD_SET(q[0], &rs);
  tv = (struct timeval){ 0, 0 };
  CHECK("select_hup_is_readable", select(q[0] + 1, &rs, NULL, NULL, &tv) == -1 ? 0 : FD_ISSET(q[0], &rs));
  return 0;
}
