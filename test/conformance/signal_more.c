/* More signal semantics: per-thread masks and pending sets, tgkill targeting, SIGPIPE,
 * SA_RESTART for wait, SS_AUTODISARM, killpg, and signals across exec and fork. */
#define _GNU_SOURCE
#include "check.h"
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif

static volatile int hits;
static void on_sig(int s) { (void)s; hits++; }

static sigset_t thread_mask_seen;
static volatile int thread_pending_has;
static void *mask_reader(void *a) {
  (void)a;
  pthread_sigmask(SIG_BLOCK, NULL, &thread_mask_seen);
  sigset_t m;
  sigemptyset(&m);
  sigaddset(&m, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &m, NULL);
  pthread_kill(pthread_self(), SIGUSR2);
  sigset_t p;
  sigpending(&p);
  thread_pending_has = sigismember(&p, SIGUSR2);
  int sig;
  sigwait(&m, &sig);
  return NULL;
}

static char alt[65536];
static volatile int autodisarm_flags = -1;
static void on_alt(int s) {
  (void)s;
  stack_t cur;
  sigaltstack(NULL, &cur);
  autodisarm_flags = cur.ss_flags;
}

int main(void) {
  alarm(60);
  /* A new thread inherits the creating thread's mask; its pending set is its own. */
  sigset_t m;
  sigemptyset(&m);
  sigaddset(&m, SIGWINCH);
  pthread_sigmask(SIG_BLOCK, &m, NULL);
  pthread_t th;
  pthread_create(&th, NULL, mask_reader, NULL);
  pthread_join(th, NULL);
  CHECK("thread-inherits-mask", sigismember(&thread_mask_seen, SIGWINCH), "not inherited");
  CHECK("thread-directed-signal-pending-in-thread", thread_pending_has, "not pending");
  sigset_t p;
  sigpending(&p);
  CHECK("thread-pending-not-in-main", !sigismember(&p, SIGUSR2), "leaked to main");
  pthread_sigmask(SIG_UNBLOCK, &m, NULL);

  CHECK("tgkill-wrong-tgid-esrch", syscall(SYS_tgkill, getpid() + 100000, syscall(SYS_gettid), 0) == -1 && errno == ESRCH, "no ESRCH");
  CHECK("tgkill-bad-tid-einval", syscall(SYS_tgkill, getpid(), 0, 0) == -1 && errno == EINVAL, "no EINVAL");
  CHECK("tgkill-self-sig0", syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), 0) == 0, "failed");

  /* SIGPIPE kills a writer to a pipe without readers; ignored, write fails with EPIPE. */
  int fds[2];
  pipe(fds);
  pid_t c = fork();
  if (c == 0) {
    close(fds[0]);
    write(fds[1], "x", 1);
    _exit(0);
  }
  close(fds[1]);
  close(fds[0]);
  int st;
  waitpid(c, &st, 0);
  pipe(fds);
  close(fds[0]);
  c = fork();
  if (c == 0) {
    write(fds[1], "x", 1);
    _exit(0);
  }
  waitpid(c, &st, 0);
  CHECK("sigpipe-kills-writer", WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE, "status=%x", st);
  signal(SIGPIPE, SIG_IGN);
  CHECK("sigpipe-ignored-epipe", write(fds[1], "x", 1) == -1 && errno == EPIPE, "no EPIPE");
  close(fds[1]);
  signal(SIGPIPE, SIG_DFL);

  /* wait4 restarts under SA_RESTART when a handler runs meanwhile. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sig;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGALRM, &sa, NULL);
  c = fork();
  if (c == 0) {
    usleep(150000);
    _exit(9);
  }
  struct itimerval it = {{0, 0}, {0, 30000}};
  setitimer(ITIMER_REAL, &it, NULL);
  hits = 0;
  pid_t w = waitpid(c, &st, 0);
  CHECK("wait-restarts-with-sa-restart", w == c && WEXITSTATUS(st) == 9 && hits == 1, "w=%d hits=%d", w, hits);
  sa.sa_flags = 0;
  sigaction(SIGALRM, &sa, NULL);
  c = fork();
  if (c == 0) {
    usleep(150000);
    _exit(9);
  }
  setitimer(ITIMER_REAL, &it, NULL);
  w = waitpid(c, &st, 0);
  CHECK("wait-eintr-without-sa-restart", w == -1 && errno == EINTR, "w=%d", w);
  waitpid(c, &st, 0);
  alarm(60);

  /* SS_AUTODISARM: the alternate stack is disabled while the handler runs on it. */
  stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt, .ss_flags = SS_AUTODISARM};
  CHECK("sigaltstack-autodisarm-accepted", sigaltstack(&ss, NULL) == 0, "rejected");
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alt;
  sa.sa_flags = SA_ONSTACK;
  sigaction(SIGUSR1, &sa, NULL);
  raise(SIGUSR1);
  CHECK("sigaltstack-autodisarm-in-handler", autodisarm_flags == SS_DISABLE, "flags=%d", autodisarm_flags);
  stack_t after;
  sigaltstack(NULL, &after);
  CHECK("sigaltstack-autodisarm-restored", after.ss_flags == SS_AUTODISARM && after.ss_sp == alt, "flags=%d", after.ss_flags);
  ss.ss_flags = SS_DISABLE;
  sigaltstack(&ss, NULL);
  stack_t bad = {.ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0x40};
  CHECK("sigaltstack-bad-flags", sigaltstack(&bad, NULL) == -1 && errno == EINVAL, "accepted");

  /* killpg reaches every member of a group. */
  pid_t a = fork();
  if (a == 0) {
    setpgid(0, 0);
    for (;;) pause();
  }
  setpgid(a, a);
  pid_t b = fork();
  if (b == 0) {
    setpgid(0, a);
    for (;;) pause();
  }
  setpgid(b, a);
  usleep(20000);
  CHECK("killpg", killpg(a, SIGTERM) == 0, "failed");
  int sa_st, sb_st;
  waitpid(a, &sa_st, 0);
  waitpid(b, &sb_st, 0);
  CHECK("killpg-all-members", WIFSIGNALED(sa_st) && WIFSIGNALED(sb_st), "a=%x b=%x", sa_st, sb_st);

  /* SIGCONT to a running process is harmless; SIGTSTP with a handler does not stop. */
  signal(SIGCONT, SIG_DFL);
  raise(SIGCONT);
  signal(SIGTSTP, on_sig);
  hits = 0;
  raise(SIGTSTP);
  CHECK("sigtstp-handled-not-stopped", hits == 1, "hits=%d", hits);
  return 0;
}
