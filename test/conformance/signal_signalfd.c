/* signalfd: blocked signals read as records, with poll readiness, masks and blocking. */
#define _GNU_SOURCE
#include "check.h"
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

int main(void) {
  alarm(60);
  sigset_t m;
  sigemptyset(&m);
  sigaddset(&m, SIGUSR1);
  sigaddset(&m, SIGUSR2);
  sigprocmask(SIG_BLOCK, &m, NULL);
  int fd = signalfd(-1, &m, SFD_NONBLOCK | SFD_CLOEXEC);
  CHECK("signalfd-create", fd >= 0, "fd=%d", fd);
  struct signalfd_siginfo si;
  CHECK("signalfd-empty-eagain", read(fd, &si, sizeof si) == -1 && errno == EAGAIN, "no EAGAIN");
  struct pollfd pfd = {fd, POLLIN, 0};
  CHECK("signalfd-not-ready", poll(&pfd, 1, 0) == 0, "ready");
  kill(getpid(), SIGUSR1);
  CHECK("signalfd-ready", poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN), "revents=%x", pfd.revents);
  ssize_t n = read(fd, &si, sizeof si);
  CHECK("signalfd-read-record", n == sizeof si && si.ssi_signo == SIGUSR1 && si.ssi_code == SI_USER && si.ssi_pid == (uint32_t)getpid(), "n=%zd signo=%u", n, si.ssi_signo);
  sigset_t pend;
  sigpending(&pend);
  CHECK("signalfd-read-dequeues", !sigismember(&pend, SIGUSR1), "still pending");
  union sigval v = {.sival_int = 99};
  sigqueue(getpid(), SIGUSR2, v);
  n = read(fd, &si, sizeof si);
  CHECK("signalfd-sigqueue-value", n == sizeof si && si.ssi_signo == SIGUSR2 && si.ssi_int == 99 && si.ssi_code == SI_QUEUE, "int=%d", si.ssi_int);
  kill(getpid(), SIGUSR1);
  kill(getpid(), SIGUSR2);
  struct signalfd_siginfo two[2];
  n = read(fd, two, sizeof two);
  CHECK("signalfd-reads-several", n == 2 * (ssize_t)sizeof si, "n=%zd", n);
  CHECK("signalfd-small-buffer-einval", read(fd, &si, 8) == -1 && errno == EINVAL, "no EINVAL");
  sigset_t only2;
  sigemptyset(&only2);
  sigaddset(&only2, SIGUSR2);
  CHECK("signalfd-update-mask", signalfd(fd, &only2, 0) == fd, "failed");
  kill(getpid(), SIGUSR1);
  CHECK("signalfd-masked-out-not-read", read(fd, &si, sizeof si) == -1 && errno == EAGAIN, "read it");
  sigpending(&pend);
  CHECK("signalfd-masked-out-stays-pending", sigismember(&pend, SIGUSR1), "not pending");
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, SIGUSR1);
  int dummy;
  sigwait(&one, &dummy);
  CHECK("signalfd-bad-flags", signalfd(-1, &m, 0x1234) == -1 && errno == EINVAL, "accepted");
  CHECK("signalfd-not-a-signalfd", signalfd(0, &m, 0) == -1 && errno == EINVAL, "accepted");

  int bfd = signalfd(-1, &m, 0);
  pid_t p = fork();
  if (p == 0) {
    usleep(20000);
    kill(getppid(), SIGUSR2);
    _exit(0);
  }
  n = read(bfd, &si, sizeof si);
  CHECK("signalfd-blocking-read-woken", n == sizeof si && si.ssi_signo == SIGUSR2 && si.ssi_pid == (uint32_t)p, "n=%zd pid=%u", n, si.ssi_pid);
  waitpid(p, NULL, 0);
  sigaddset(&m, SIGCHLD);
  int cfd = signalfd(-1, &m, 0);
  sigprocmask(SIG_BLOCK, &m, NULL);
  p = fork();
  if (p == 0) _exit(7);
  n = read(cfd, &si, sizeof si);
  CHECK("signalfd-sigchld-status", n == sizeof si && si.ssi_signo == SIGCHLD && si.ssi_code == CLD_EXITED && si.ssi_status == 7 && si.ssi_pid == (uint32_t)p, "status=%d", si.ssi_status);
  waitpid(p, NULL, 0);
  return 0;
}
