/* Synchronous signals from faults reach the app's handlers with the right siginfo and
 * machine context: SIGSEGV (si_addr, MAPERR/ACCERR), SIGFPE, SIGILL, SIGTRAP, stack
 * overflow on an alternate stack, and context edits honoured by sigreturn. */
#define _GNU_SOURCE
#include "check.h"
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <ucontext.h>

static sigjmp_buf jb;
static volatile int got_sig, got_code, got_trapno;
static volatile uintptr_t got_addr;

static void catcher(int s, siginfo_t *si, void *ucp) {
  ucontext_t *uc = ucp;
  got_sig = s;
  got_code = si->si_code;
  got_addr = (uintptr_t)si->si_addr;
  got_trapno = (int)uc->uc_mcontext.gregs[REG_TRAPNO];
  siglongjmp(jb, 1);
}

static void skip_ud2(int s, siginfo_t *si, void *ucp) {
  ucontext_t *uc = ucp;
  got_sig = s;
  got_addr = (uintptr_t)si->si_addr;
  uc->uc_mcontext.gregs[REG_RIP] += 2; /* resume after the 2-byte ud2 */
  uc->uc_mcontext.gregs[REG_RAX] = 1234;
}

static void on(int sig, void (*h)(int, siginfo_t *, void *), int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = h;
  sa.sa_flags = SA_SIGINFO | flags;
  sigaction(sig, &sa, NULL);
}

static volatile int zero = 0;
static int depth_sink;
static int recurse(int n) {
  volatile char buf[1024];
  buf[0] = (char)n;
  return recurse(n + 1) + buf[0];
}

extern char ud2_here[];

int main(void) {
  alarm(60);
  on(SIGSEGV, catcher, 0);
  if (sigsetjmp(jb, 1) == 0) {
    *(volatile int *)0x10 = 1;
    CHECK("segv-null-write-caught", 0, "no fault");
  } else {
    CHECK("segv-null-write-caught", got_sig == SIGSEGV, "sig=%d", got_sig);
    CHECK("segv-si-addr", got_addr == 0x10, "addr=%lx", (unsigned long)got_addr);
    CHECK("segv-maperr", got_code == SEGV_MAPERR, "code=%d", got_code);
    CHECK("segv-trapno-14", got_trapno == 14, "trapno=%d", got_trapno);
  }
  char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (sigsetjmp(jb, 1) == 0) {
    ro[100] = 1;
    CHECK("segv-readonly-write-caught", 0, "no fault");
  } else {
    CHECK("segv-readonly-write-caught", got_sig == SIGSEGV, "sig=%d", got_sig);
    CHECK("segv-accerr", got_code == SEGV_ACCERR, "code=%d", got_code);
    CHECK("segv-accerr-addr", got_addr == (uintptr_t)ro + 100, "addr=%lx", (unsigned long)got_addr);
  }
  char *none = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (sigsetjmp(jb, 1) == 0) {
    (void)*(volatile char *)none;
    CHECK("segv-prot-none-read", 0, "no fault");
  } else {
    CHECK("segv-prot-none-read", got_sig == SIGSEGV && got_code == SEGV_ACCERR && got_addr == (uintptr_t)none, "code=%d", got_code);
  }
  munmap(ro, 4096);
  if (sigsetjmp(jb, 1) == 0) {
    (void)*(volatile char *)ro;
    CHECK("segv-after-munmap", 0, "no fault");
  } else {
    CHECK("segv-after-munmap", got_sig == SIGSEGV && got_code == SEGV_MAPERR, "code=%d", got_code);
  }
  /* Handled twice in a row: the handler is re-armed after siglongjmp. */
  int again = 0;
  for (int i = 0; i < 2; i++) {
    if (sigsetjmp(jb, 1) == 0) *(volatile int *)0x20 = 1;
    else again++;
  }
  CHECK("segv-handled-repeatedly", again == 2, "again=%d", again);

  on(SIGFPE, catcher, 0);
  if (sigsetjmp(jb, 1) == 0) {
    volatile int x = 7 / zero;
    (void)x;
    CHECK("sigfpe-div-zero", 0, "no fault");
  } else {
    CHECK("sigfpe-div-zero", got_sig == SIGFPE && got_code == FPE_INTDIV, "sig=%d code=%d", got_sig, got_code);
    CHECK("sigfpe-trapno-0", got_trapno == 0, "trapno=%d", got_trapno);
    CHECK("sigfpe-si-addr-is-code", got_addr != 0, "addr=0");
  }

  on(SIGILL, catcher, 0);
  if (sigsetjmp(jb, 1) == 0) {
    __asm__ volatile("ud2");
    CHECK("sigill-ud2", 0, "no fault");
  } else {
    CHECK("sigill-ud2", got_sig == SIGILL && got_code == ILL_ILLOPN, "sig=%d code=%d", got_sig, got_code);
    CHECK("sigill-trapno-6", got_trapno == 6, "trapno=%d", got_trapno);
  }

  on(SIGILL, skip_ud2, 0);
  long rax;
  __asm__ volatile(".globl ud2_here\n\tmov $1, %%eax\n\tud2_here: ud2\n\tmov %%rax, %0" : "=r"(rax) : : "rax");
  CHECK("sigreturn-honours-edited-rip", got_sig == SIGILL, "sig=%d", got_sig);
  CHECK("sigreturn-honours-edited-rax", rax == 1234, "rax=%ld", rax);
  CHECK("sigill-si-addr-is-instruction", got_addr == (uintptr_t)ud2_here, "addr=%lx want %lx", (unsigned long)got_addr, (unsigned long)ud2_here);

  on(SIGTRAP, catcher, 0);
  if (sigsetjmp(jb, 1) == 0) {
    __asm__ volatile("int3");
    CHECK("sigtrap-int3", 0, "no trap");
  } else {
    CHECK("sigtrap-int3", got_sig == SIGTRAP && got_code == SI_KERNEL, "sig=%d code=%d", got_sig, got_code);
    CHECK("sigtrap-trapno-3", got_trapno == 3, "trapno=%d", got_trapno);
  }

  /* Stack overflow: only an alternate stack can take the frame. */
  static char alt[65536];
  stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0};
  sigaltstack(&ss, NULL);
  on(SIGSEGV, catcher, SA_ONSTACK);
  if (sigsetjmp(jb, 1) == 0) {
    depth_sink = recurse(0);
    CHECK("stack-overflow-caught-on-altstack", 0, "returned");
  } else {
    CHECK("stack-overflow-caught-on-altstack", got_sig == SIGSEGV, "sig=%d", got_sig);
  }

  /* A fault while its signal is blocked, or ignored, kills. */
  int st;
  pid_t p = fork();
  if (p == 0) {
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, SIGSEGV);
    sigprocmask(SIG_BLOCK, &m, NULL);
    *(volatile int *)0x10 = 1;
    _exit(0);
  }
  waitpid(p, &st, 0);
  CHECK("blocked-fault-kills", WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "status=%x", st);
  p = fork();
  if (p == 0) {
    signal(SIGSEGV, SIG_IGN);
    *(volatile int *)0x10 = 1;
    _exit(0);
  }
  waitpid(p, &st, 0);
  CHECK("ignored-fault-kills", WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "status=%x", st);
  p = fork();
  if (p == 0) {
    signal(SIGFPE, SIG_DFL);
    volatile int x = 7 / zero;
    (void)x;
    _exit(0);
  }
  waitpid(p, &st, 0);
  CHECK("default-sigfpe-kills", WIFSIGNALED(st) && WTERMSIG(st) == SIGFPE, "status=%x", st);
  p = fork();
  if (p == 0) abort();
  waitpid(p, &st, 0);
  CHECK("abort-kills-with-sigabrt", WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT, "status=%x", st);
  return 0;
}
