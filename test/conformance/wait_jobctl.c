/* wait4/waitpid/waitid and job control: exit statuses, WNOHANG, WNOWAIT, ECHILD,
 * SIGSTOP/SIGCONT with WUNTRACED/WCONTINUED, SIGCHLD with its siginfo, SA_NOCLDSTOP,
 * automatic reaping (SIGCHLD ignored), process-group waits. */
#define _GNU_SOURCE
#include "check.h"
#include <signal.h>
#include <stdlib.h>
#include <sched.h>
#include <sys/prctl.h>
#include <time.h>
#include <sys/wait.h>

static volatile int chld_hits, chld_code, chld_status, chld_pid;
static void on_chld(int s, siginfo_t *si, void *uc) {
  (void)s; (void)uc;
  chld_hits++;
  chld_code = si->si_code;
  chld_status = si->si_status;
  chld_pid = si->si_pid;
}

static volatile int usr1_hits;
static void on_usr1(int s) { (void)s; usr1_hits++; }
static int clone_child(void *a) { (void)a; return 4; }
static char clone_stack[65536];

static pid_t child_sleeper(void) {
  pid_t p = fork();
  if (p == 0) {
    for (;;) pause();
  }
  return p;
}

int main(void) {
  alarm(60);
  int st;
  pid_t p = fork();
  if (p == 0) _exit(42);
  CHECK("waitpid-returns-pid", waitpid(p, &st, 0) == p, "bad pid");
  CHECK("exit-status", WIFEXITED(st) && WEXITSTATUS(st) == 42, "status=%x", st);
  CHECK("echild-when-no-children", waitpid(-1, &st, 0) == -1 && errno == ECHILD, "no ECHILD");
  CHECK("echild-wrong-pid", waitpid(p, &st, WNOHANG) == -1 && errno == ECHILD, "no ECHILD");

  p = child_sleeper();
  CHECK("wnohang-running-child", waitpid(p, &st, WNOHANG) == 0, "not 0");
  kill(p, SIGKILL);
  waitpid(p, &st, 0);
  CHECK("killed-status", WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "status=%x", st);

  p = fork();
  if (p == 0) exit(3);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  CHECK("waitid-wnowait", waitid(P_PID, p, &si, WEXITED | WNOWAIT) == 0 && si.si_pid == p && si.si_code == CLD_EXITED && si.si_status == 3, "code=%d status=%d", si.si_code, si.si_status);
  memset(&si, 0, sizeof si);
  CHECK("waitid-after-wnowait-still-waitable", waitid(P_PID, p, &si, WEXITED) == 0 && si.si_pid == p && si.si_signo == SIGCHLD, "pid=%d", si.si_pid);
  CHECK("waitid-reaped", waitid(P_PID, p, &si, WEXITED | WNOHANG) == -1 && errno == ECHILD, "not reaped");

  p = child_sleeper();
  memset(&si, 0xff, sizeof si);
  CHECK("waitid-wnohang-zeroes", waitid(P_PID, p, &si, WEXITED | WNOHANG) == 0 && si.si_pid == 0, "pid=%d", si.si_pid);
  CHECK("waitid-no-options-einval", waitid(P_PID, p, &si, 0) == -1 && errno == EINVAL, "accepted");
  kill(p, SIGTERM);
  memset(&si, 0, sizeof si);
  waitid(P_PID, p, &si, WEXITED);
  CHECK("waitid-killed-info", si.si_code == CLD_KILLED && si.si_status == SIGTERM, "code=%d status=%d", si.si_code, si.si_status);

  /* Job control */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_chld;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigaction(SIGCHLD, &sa, NULL);
  p = child_sleeper();
  chld_hits = 0;
  kill(p, SIGSTOP);
  CHECK("wuntraced-reports-stop", waitpid(p, &st, WUNTRACED) == p && WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP, "status=%x", st);
  for (int i = 0; i < 1000 && chld_hits == 0; i++) usleep(1000);
  CHECK("sigchld-on-stop", chld_hits >= 1 && chld_code == CLD_STOPPED && chld_status == SIGSTOP && chld_pid == p, "hits=%d code=%d", chld_hits, chld_code);
  CHECK("stop-reported-once", waitpid(p, &st, WUNTRACED | WNOHANG) == 0, "reported twice");
  chld_hits = 0;
  kill(p, SIGCONT);
  CHECK("wcontinued-reports-continue", waitpid(p, &st, WCONTINUED) == p && WIFCONTINUED(st), "status=%x", st);
  for (int i = 0; i < 1000 && chld_hits == 0; i++) usleep(1000);
  CHECK("sigchld-on-continue", chld_hits >= 1 && chld_code == CLD_CONTINUED, "hits=%d code=%d", chld_hits, chld_code);
  /* SIGTSTP stops only outside an orphaned group: give the child a group of its own,
   * whose parent (us) is in another group of the session. */
  setpgid(p, p);
  kill(p, SIGTSTP);
  memset(&si, 0, sizeof si);
  CHECK("waitid-wstopped", waitid(P_PID, p, &si, WSTOPPED) == 0 && si.si_code == CLD_STOPPED && si.si_status == SIGTSTP, "code=%d status=%d", si.si_code, si.si_status);
  kill(p, SIGCONT);
  memset(&si, 0, sizeof si);
  CHECK("waitid-wcontinued", waitid(P_PID, p, &si, WCONTINUED) == 0 && si.si_code == CLD_CONTINUED, "code=%d", si.si_code);
  kill(p, SIGSTOP);
  waitpid(p, &st, WUNTRACED);
  kill(p, SIGKILL);
  waitpid(p, &st, 0);
  CHECK("sigkill-ends-stopped-child", WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "status=%x", st);

  /* A stopped child's pending signal is handled after SIGCONT. */
  int pfd[2];
  pipe(pfd);
  p = fork();
  if (p == 0) {
    close(pfd[0]);
    signal(SIGUSR1, SIG_DFL);
    char c = 'r';
    write(pfd[1], &c, 1);
    for (;;) pause();
  }
  close(pfd[1]);
  char c;
  read(pfd[0], &c, 1);
  close(pfd[0]);
  kill(p, SIGSTOP);
  waitpid(p, &st, WUNTRACED);
  kill(p, SIGUSR1);
  CHECK("stopped-child-does-not-die-yet", waitpid(p, &st, WNOHANG) == 0, "status=%x", st);
  kill(p, SIGCONT);
  waitpid(p, &st, 0);
  CHECK("pending-fatal-after-continue", WIFSIGNALED(st) && WTERMSIG(st) == SIGUSR1, "status=%x", st);

  /* In an orphaned process group (here: a new session) terminal stops are discarded. */
  p = fork();
  if (p == 0) {
    setsid();
    signal(SIGTSTP, SIG_DFL);
    raise(SIGTSTP);
    _exit(6);
  }
  waitpid(p, &st, WUNTRACED);
  CHECK("orphaned-pgrp-ignores-sigtstp", WIFEXITED(st) && WEXITSTATUS(st) == 6, "status=%x", st);
  if (WIFSTOPPED(st)) {
    kill(p, SIGKILL);
    waitpid(p, &st, 0);
  }
  p = fork();
  if (p == 0) {
    setsid();
    raise(SIGSTOP);
    _exit(6);
  }
  waitpid(p, &st, WUNTRACED);
  CHECK("orphaned-pgrp-still-sigstop", WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP, "status=%x", st);
  kill(p, SIGCONT);
  waitpid(p, &st, 0);

  /* A stopped group orphaned by its parent's exit gets SIGHUP (then SIGCONT). The middle
   * process leads a new session; its child has a group of its own in it; we are a subreaper
   * (in another session) so the grandchild comes to us in both worlds. */
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  int gp[2];
  pipe(gp);
  p = fork();
  if (p == 0) {
    setsid();
    pid_t g = fork();
    if (g == 0) {
      setpgid(0, 0);
      raise(SIGSTOP);
      _exit(0);
    }
    setpgid(g, g);
    waitpid(g, NULL, WUNTRACED);
    write(gp[1], &g, sizeof g);
    _exit(0);
  }
  pid_t grand = 0;
  read(gp[0], &grand, sizeof grand);
  waitpid(p, &st, 0);
  waitpid(grand, &st, 0);
  CHECK("orphaned-stopped-group-gets-sighup", WIFSIGNALED(st) && WTERMSIG(st) == SIGHUP, "status=%x", st);
  close(gp[0]);
  close(gp[1]);
  prctl(PR_SET_CHILD_SUBREAPER, 0);

  /* A sleep stopped and continued (no handler) goes on with the time it had left. */
  p = fork();
  if (p == 0) {
    struct timespec a, b, d = {1, 0};
    clock_gettime(CLOCK_MONOTONIC, &a);
    int r = nanosleep(&d, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double el = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
    _exit(r != 0 ? 1 : el < 0.95 ? 2 : el > 1.5 ? 3 : 0);
  }
  usleep(100000);
  kill(p, SIGSTOP);
  waitpid(p, &st, WUNTRACED);
  usleep(800000);
  kill(p, SIGCONT);
  waitpid(p, &st, 0);
  CHECK("stopped-sleep-resumes-remaining-time", WIFEXITED(st) && WEXITSTATUS(st) == 0, "status=%x", st);

  /* SA_NOCLDSTOP: no SIGCHLD for stops. */
  sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_NOCLDSTOP;
  sigaction(SIGCHLD, &sa, NULL);
  p = child_sleeper();
  chld_hits = 0;
  kill(p, SIGSTOP);
  waitpid(p, &st, WUNTRACED);
  usleep(20000);
  CHECK("sa-nocldstop", chld_hits == 0, "hits=%d", chld_hits);
  kill(p, SIGKILL);
  waitpid(p, &st, 0);
  usleep(20000);
  CHECK("sigchld-on-exit", chld_hits >= 1 && chld_code == CLD_KILLED && chld_status == SIGKILL, "hits=%d code=%d", chld_hits, chld_code);

  /* SIGCHLD ignored: children are reaped automatically. */
  signal(SIGCHLD, SIG_IGN);
  p = fork();
  if (p == 0) _exit(0);
  errno = 0;
  CHECK("sigchld-ignored-autoreaps", waitpid(p, &st, 0) == -1 && errno == ECHILD, "not autoreaped");
  signal(SIGCHLD, SIG_DFL);

  /* Process-group waits */
  pid_t a = fork();
  if (a == 0) {
    setpgid(0, 0);
    usleep(10000);
    _exit(1);
  }
  setpgid(a, a);
  pid_t b = fork();
  if (b == 0) _exit(2);
  CHECK("wait-by-pgid", waitpid(-a, &st, 0) == a && WEXITSTATUS(st) == 1, "status=%x", st);
  CHECK("wait-any-gets-other", waitpid(-1, &st, 0) == b && WEXITSTATUS(st) == 2, "status=%x", st);

  /* Many children, all reaped. */
  int okc = 0;
  for (int i = 0; i < 20; i++) {
    pid_t q = fork();
    if (q == 0) _exit(i);
  }
  for (int i = 0; i < 20; i++) {
    if (waitpid(-1, &st, 0) > 0 && WIFEXITED(st)) okc++;
  }
  CHECK("twenty-children-reaped", okc == 20, "ok=%d", okc);
  /* A clone child with another exit signal is a "clone" child: only __WCLONE/__WALL see it. */
  signal(SIGUSR1, on_usr1);
  pid_t cc = clone(clone_child, clone_stack + sizeof clone_stack, SIGUSR1, NULL);
  for (int i = 0; i < 1000 && usr1_hits == 0; i++) usleep(1000);
  CHECK("clone-exit-signal-delivered", usr1_hits == 1, "hits=%d", usr1_hits);
  CHECK("clone-child-invisible-without-wclone", waitpid(cc, &st, WNOHANG) == -1 && errno == ECHILD, "visible");
  CHECK("clone-child-waited-with-wclone", waitpid(cc, &st, __WCLONE) == cc && WEXITSTATUS(st) == 4, "status=%x", st);
  cc = clone(clone_child, clone_stack + sizeof clone_stack, 0, NULL);
  CHECK("clone-no-exit-signal-wall", waitpid(cc, &st, __WALL) == cc && WEXITSTATUS(st) == 4, "status=%x", st);
  CHECK("wait4-bad-options", waitpid(-1, &st, 0x40) == -1 && errno == EINVAL, "accepted");
  return 0;
}
