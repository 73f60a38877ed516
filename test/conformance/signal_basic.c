/* Signals: handlers, siginfo, masks, pending and queueing, flags, alternate stacks,
 * FP state across handlers, sigsuspend/sigtimedwait, EINTR vs SA_RESTART, exec reset. */
#define _GNU_SOURCE
#include "check.h"
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

static volatile sig_atomic_t hits, last_sig;
static volatile int last_code, last_pid, last_value;
static volatile int order[8], norder;
static sigset_t in_handler_mask;

static void on_sig(int s) { hits++; last_sig = s; sigprocmask(SIG_BLOCK, NULL, &in_handler_mask); }
static void on_info(int s, siginfo_t *si, void *uc) {
  (void)uc;
  hits++;
  last_sig = s;
  last_code = si->si_code;
  last_pid = si->si_pid;
  last_value = si->si_value.sival_int;
  if (norder < 8) order[norder++] = s == SIGRTMIN ? si->si_value.sival_int : s;
}

static void set(int sig, void (*h)(int), int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = h;
  sa.sa_flags = flags;
  sigaction(sig, &sa, NULL);
}
static void set_info(int sig, int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_info;
  sa.sa_flags = SA_SIGINFO | flags;
  sigaction(sig, &sa, NULL);
}
static void block(int sig, int how) {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, sig);
  sigprocmask(how, &s, NULL);
}

static char altstack[65536];
static volatile uintptr_t handler_sp;
static volatile int alt_flags, alt_eperm;
static void on_alt(int s) {
  (void)s;
  int local;
  handler_sp = (uintptr_t)&local;
  stack_t cur;
  sigaltstack(NULL, &cur);
  alt_flags = cur.ss_flags;
  stack_t ns = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
  alt_eperm = sigaltstack(&ns, NULL) == -1 && errno == EPERM;
}

static void clobber_fp(int s) {
  (void)s;
  __asm__ volatile("xorpd %%xmm8, %%xmm8\n\tpcmpeqd %%xmm9, %%xmm9" ::: "xmm8", "xmm9");
}

static sigjmp_buf jb;
static void jump_out(int s) { siglongjmp(jb, s); }

static volatile int nest_depth, nest_max;
static void nest2(int s) { (void)s; nest_depth++; if (nest_depth > nest_max) nest_max = nest_depth; nest_depth--; }
static void nest1(int s) { (void)s; nest_depth++; raise(SIGUSR2); nest_depth--; }

static int pipefd[2];
static void write_pipe(int s) { (void)s; char c = 'x'; write(pipefd[1], &c, 1); }

static void exec_check(void) {
  struct sigaction sa;
  sigaction(SIGUSR1, NULL, &sa);
  int dfl = sa.sa_handler == SIG_DFL;
  sigaction(SIGUSR2, NULL, &sa);
  int ign = sa.sa_handler == SIG_IGN;
  sigset_t m;
  sigprocmask(SIG_BLOCK, NULL, &m);
  int kept = sigismember(&m, SIGWINCH);
  _exit(dfl && ign && kept ? 0 : 1);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "exec-check") == 0) exec_check();
  alarm(60);

  set(SIGUSR1, on_sig, 0);
  hits = 0;
  raise(SIGUSR1);
  CHECK("handler-runs-on-raise", hits == 1 && last_sig == SIGUSR1, "hits=%d sig=%d", hits, last_sig);
  CHECK("signal-blocked-in-handler", sigismember(&in_handler_mask, SIGUSR1), "not blocked");
  sigset_t now;
  sigprocmask(SIG_BLOCK, NULL, &now);
  CHECK("mask-restored-after-handler", !sigismember(&now, SIGUSR1), "still blocked");

  set_info(SIGUSR1, 0);
  raise(SIGUSR1);
  CHECK("siginfo-raise-is-tkill", last_code == SI_TKILL && last_pid == getpid(), "code=%d pid=%d", last_code, last_pid);
  kill(getpid(), SIGUSR1);
  CHECK("siginfo-kill-is-user", last_code == SI_USER && last_pid == getpid(), "code=%d", last_code);
  union sigval v = {.sival_int = 77};
  sigqueue(getpid(), SIGUSR1, v);
  CHECK("siginfo-sigqueue-value", last_code == SI_QUEUE && last_value == 77, "code=%d value=%d", last_code, last_value);

  hits = 0;
  block(SIGUSR1, SIG_BLOCK);
  raise(SIGUSR1);
  raise(SIGUSR1);
  sigset_t pend;
  sigpending(&pend);
  CHECK("blocked-signal-pending", hits == 0 && sigismember(&pend, SIGUSR1), "hits=%d", hits);
  block(SIGUSR1, SIG_UNBLOCK);
  CHECK("standard-signals-coalesce", hits == 1, "hits=%d", hits);
  sigpending(&pend);
  CHECK("pending-cleared-after-delivery", !sigismember(&pend, SIGUSR1), "still pending");

  set_info(SIGRTMIN, 0);
  set_info(SIGRTMIN + 1, 0);
  block(SIGRTMIN, SIG_BLOCK);
  block(SIGRTMIN + 1, SIG_BLOCK);
  norder = 0;
  for (int i = 1; i <= 3; i++) {
    v.sival_int = i;
    sigqueue(getpid(), SIGRTMIN, v);
  }
  sigqueue(getpid(), SIGRTMIN + 1, v);
  sigset_t both;
  sigemptyset(&both);
  sigaddset(&both, SIGRTMIN);
  sigaddset(&both, SIGRTMIN + 1);
  sigprocmask(SIG_UNBLOCK, &both, NULL);
  /* Both are delivered at once: the higher one's frame is on top, so it runs first. */
  CHECK("rt-signals-queue-in-order", norder == 4 && order[0] == SIGRTMIN + 1 && order[1] == 1 && order[2] == 2 && order[3] == 3,
        "n=%d %d %d %d %d", norder, order[0], order[1], order[2], order[3]);

  set(SIGUSR2, on_sig, SA_RESETHAND);
  raise(SIGUSR2);
  struct sigaction cur;
  sigaction(SIGUSR2, NULL, &cur);
  CHECK("sa-resethand", cur.sa_handler == SIG_DFL, "handler not reset");

  set(SIGUSR2, on_sig, SA_NODEFER);
  raise(SIGUSR2);
  CHECK("sa-nodefer", !sigismember(&in_handler_mask, SIGUSR2), "blocked");

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sig;
  sigemptyset(&sa.sa_mask);
  sigaddset(&sa.sa_mask, SIGWINCH);
  sigaction(SIGUSR2, &sa, NULL);
  raise(SIGUSR2);
  CHECK("sa-mask-applied", sigismember(&in_handler_mask, SIGWINCH), "sa_mask not applied");

  set(SIGUSR2, SIG_IGN, 0);
  hits = 0;
  raise(SIGUSR2);
  CHECK("ignored-signal-dropped", hits == 0, "hits=%d", hits);
  block(SIGUSR2, SIG_BLOCK);
  raise(SIGUSR2);
  sigpending(&pend);
  CHECK("blocked-ignored-signal-stays-pending", sigismember(&pend, SIGUSR2), "not pending");
  block(SIGUSR2, SIG_UNBLOCK);
  sigpending(&pend);
  CHECK("ignored-signal-dropped-on-unblock", !sigismember(&pend, SIGUSR2) && hits == 0, "pending");

  set(SIGCHLD, SIG_DFL, 0);
  raise(SIGCHLD);
  raise(SIGURG);
  raise(SIGWINCH);
  CHECK("default-ignore-signals-harmless", 1, "-");

  CHECK("sigaction-sigkill-einval", sigaction(SIGKILL, &sa, NULL) == -1 && errno == EINVAL, "accepted");
  CHECK("sigaction-bad-signo", sigaction(65, &sa, NULL) == -1 && errno == EINVAL, "accepted");
  sigset_t all;
  sigfillset(&all);
  sigset_t old;
  sigprocmask(SIG_SETMASK, &all, &old);
  sigprocmask(SIG_SETMASK, &old, &now);
  CHECK("sigkill-unblockable", !sigismember(&now, SIGKILL) && !sigismember(&now, SIGSTOP), "blocked");
  CHECK("sigprocmask-bad-how", sigprocmask(99, &all, NULL) == -1 && errno == EINVAL, "accepted");
  CHECK("kill-bad-signal", kill(getpid(), 200) == -1 && errno == EINVAL, "accepted");
  CHECK("kill-sig0-self", kill(getpid(), 0) == 0, "failed");

  /* Alternate stack */
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
  CHECK("sigaltstack-set", sigaltstack(&ss, NULL) == 0, "failed");
  stack_t small = {.ss_sp = altstack, .ss_size = 100, .ss_flags = 0};
  CHECK("sigaltstack-too-small", sigaltstack(&small, NULL) == -1 && errno == ENOMEM, "accepted");
  stack_t q;
  sigaltstack(NULL, &q);
  CHECK("sigaltstack-query", q.ss_sp == altstack && q.ss_size == sizeof altstack && q.ss_flags == 0, "flags=%d", q.ss_flags);
  set(SIGUSR1, on_alt, SA_ONSTACK);
  raise(SIGUSR1);
  CHECK("handler-on-altstack", handler_sp >= (uintptr_t)altstack && handler_sp < (uintptr_t)altstack + sizeof altstack, "sp=%lx", (unsigned long)handler_sp);
  CHECK("sigaltstack-onstack-flag", alt_flags == SS_ONSTACK, "flags=%d", alt_flags);
  CHECK("sigaltstack-eperm-on-stack", alt_eperm, "no EPERM");
  set(SIGUSR1, on_alt, 0);
  raise(SIGUSR1);
  CHECK("handler-without-onstack-on-main-stack", !(handler_sp >= (uintptr_t)altstack && handler_sp < (uintptr_t)altstack + sizeof altstack), "on altstack");
  ss.ss_flags = SS_DISABLE;
  sigaltstack(&ss, NULL);
  sigaltstack(NULL, &q);
  CHECK("sigaltstack-disable", q.ss_flags == SS_DISABLE, "flags=%d", q.ss_flags);

  /* FP/SSE state survives a handler that clobbers it. */
  set(SIGUSR1, clobber_fp, 0);
  double in = 42.5, outv = 0;
  long tid = syscall(SYS_gettid);
  long pid = getpid();
  __asm__ volatile(
      "movsd %[in], %%xmm8\n\t"
      "mov $234, %%eax\n\t"   /* tgkill */
      "mov %[pid], %%rdi\n\t"
      "mov %[tid], %%rsi\n\t"
      "mov $10, %%edx\n\t"
      "syscall\n\t"
      "movsd %%xmm8, %[out]\n\t"
      : [out] "=m"(outv)
      : [in] "m"(in), [pid] "r"(pid), [tid] "r"(tid)
      : "rax", "rdi", "rsi", "rdx", "rcx", "r11", "xmm8", "xmm9", "memory");
  CHECK("fp-state-restored-after-handler", outv == 42.5, "xmm8=%f", outv);

  /* General registers survive too (callee-saved and others). */
  long r12 = 0x1122334455667788L, r12out = 0;
  __asm__ volatile(
      "mov %[v], %%r12\n\t"
      "mov $234, %%eax\n\t"
      "mov %[pid], %%rdi\n\t"
      "mov %[tid], %%rsi\n\t"
      "mov $10, %%edx\n\t"
      "syscall\n\t"
      "mov %%r12, %[out]\n\t"
      : [out] "=r"(r12out)
      : [v] "r"(r12), [pid] "r"(pid), [tid] "r"(tid)
      : "rax", "rdi", "rsi", "rdx", "rcx", "r11", "r12", "memory");
  CHECK("registers-restored-after-handler", r12out == r12, "r12=%lx", r12out);

  /* siglongjmp out of a handler restores the mask. */
  set(SIGUSR1, jump_out, 0);
  int r = sigsetjmp(jb, 1);
  if (r == 0) {
    raise(SIGUSR1);
    CHECK("siglongjmp-from-handler", 0, "handler returned");
  } else {
    sigprocmask(SIG_BLOCK, NULL, &now);
    CHECK("siglongjmp-from-handler", r == SIGUSR1 && !sigismember(&now, SIGUSR1), "r=%d", r);
  }

  /* Nested delivery */
  set(SIGUSR1, nest1, 0);
  set(SIGUSR2, nest2, 0);
  nest_max = 0;
  raise(SIGUSR1);
  CHECK("nested-handlers", nest_max == 2, "depth=%d", nest_max);

  /* sigsuspend */
  set(SIGUSR1, on_sig, 0);
  block(SIGUSR1, SIG_BLOCK);
  hits = 0;
  raise(SIGUSR1);
  sigset_t empty;
  sigemptyset(&empty);
  r = sigsuspend(&empty);
  sigprocmask(SIG_BLOCK, NULL, &now);
  CHECK("sigsuspend-eintr", r == -1 && errno == EINTR && hits == 1, "r=%d hits=%d", r, hits);
  CHECK("sigsuspend-restores-mask", sigismember(&now, SIGUSR1), "mask not restored");
  block(SIGUSR1, SIG_UNBLOCK);

  /* sigtimedwait / sigwaitinfo */
  block(SIGUSR2, SIG_BLOCK);
  sigset_t w;
  sigemptyset(&w);
  sigaddset(&w, SIGUSR2);
  v.sival_int = 5;
  sigqueue(getpid(), SIGUSR2, v);
  siginfo_t si;
  r = sigwaitinfo(&w, &si);
  CHECK("sigwaitinfo-takes-pending", r == SIGUSR2 && si.si_value.sival_int == 5 && si.si_code == SI_QUEUE, "r=%d", r);
  struct timespec ts = {0, 20 * 1000 * 1000};
  r = sigtimedwait(&w, &si, &ts);
  CHECK("sigtimedwait-timeout", r == -1 && errno == EAGAIN, "r=%d", r);
  struct timespec zero = {0, 0};
  r = sigtimedwait(&w, &si, &zero);
  CHECK("sigtimedwait-poll", r == -1 && errno == EAGAIN, "r=%d", r);
  set(SIGALRM, on_sig, 0);
  struct itimerval it = {{0, 0}, {0, 30000}};
  setitimer(ITIMER_REAL, &it, NULL);
  ts.tv_sec = 5;
  r = sigtimedwait(&w, &si, &ts);
  CHECK("sigtimedwait-eintr-other-signal", r == -1 && errno == EINTR, "r=%d", r);
  struct timespec bad = {0, 2000000000};
  CHECK("sigtimedwait-bad-timeout", sigtimedwait(&w, &si, &bad) == -1 && errno == EINVAL, "accepted");
  block(SIGUSR2, SIG_UNBLOCK);

  /* EINTR without SA_RESTART, restart with it. */
  pipe(pipefd);
  set(SIGALRM, write_pipe, 0);
  setitimer(ITIMER_REAL, &it, NULL);
  char c;
  ssize_t n = read(pipefd[0], &c, 1);
  CHECK("read-eintr-without-sa-restart", n == -1 && errno == EINTR, "n=%zd", n);
  read(pipefd[0], &c, 1); /* the handler's byte */
  set(SIGALRM, write_pipe, SA_RESTART);
  setitimer(ITIMER_REAL, &it, NULL);
  n = read(pipefd[0], &c, 1);
  CHECK("read-restarts-with-sa-restart", n == 1 && c == 'x', "n=%zd", n);
  set(SIGALRM, on_sig, SA_RESTART);
  setitimer(ITIMER_REAL, &it, NULL);
  struct timespec lng = {3, 0}, rem = {0, 0};
  r = nanosleep(&lng, &rem);
  CHECK("nanosleep-eintr-even-with-sa-restart", r == -1 && errno == EINTR, "r=%d", r);
  CHECK("nanosleep-reports-remaining", rem.tv_sec >= 1 && rem.tv_sec <= 3, "rem=%ld", (long)rem.tv_sec);
  setitimer(ITIMER_REAL, &it, NULL);
  hits = 0;
  r = pause();
  CHECK("pause-eintr", r == -1 && errno == EINTR && hits == 1, "r=%d", r);

  /* fork: mask inherited, pending not; default action kills */
  block(SIGUSR1, SIG_BLOCK);
  raise(SIGUSR1);
  pid_t p = fork();
  if (p == 0) {
    sigset_t m, pd;
    sigprocmask(SIG_BLOCK, NULL, &m);
    sigpending(&pd);
    _exit(sigismember(&m, SIGUSR1) && !sigismember(&pd, SIGUSR1) ? 0 : 1);
  }
  int st;
  waitpid(p, &st, 0);
  CHECK("fork-mask-inherited-pending-not", WIFEXITED(st) && WEXITSTATUS(st) == 0, "status=%x", st);
  set(SIGUSR1, on_sig, 0);
  block(SIGUSR1, SIG_UNBLOCK);

  p = fork();
  if (p == 0) {
    signal(SIGTERM, SIG_DFL);
    for (;;) pause();
  }
  kill(p, SIGTERM);
  waitpid(p, &st, 0);
  CHECK("default-action-terminates", WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM, "status=%x", st);
  CHECK("kill-reaped-child-esrch", kill(p, 0) == -1 && errno == ESRCH, "no ESRCH");

  p = fork();
  if (p == 0) {
    for (;;) pause();
  }
  kill(p, SIGKILL);
  waitpid(p, &st, 0);
  CHECK("sigkill-kills-handler-process", WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "status=%x", st);

  /* exec: handlers reset, ignored stay ignored, mask kept */
  p = fork();
  if (p == 0) {
    set(SIGUSR1, on_sig, 0);
    set(SIGUSR2, SIG_IGN, 0);
    block(SIGWINCH, SIG_BLOCK);
    execl("/proc/self/exe", argv[0], "exec-check", (char *)NULL);
    execl(argv[0], argv[0], "exec-check", (char *)NULL);
    _exit(2);
  }
  waitpid(p, &st, 0);
  CHECK("exec-resets-handlers", WIFEXITED(st) && WEXITSTATUS(st) == 0, "status=%x", st);
  return 0;
}
