/* init semantics (SIGNAL_UNKILLABLE): a pid namespace's init takes from its own namespace
 * only signals it handles (even SIGKILL is dropped); from the parent namespace SIGKILL works;
 * a fault still kills it; when it dies the rest of its namespace is killed. The program
 * itself is pid 1 of its namespace (natively under unshare --pid --fork). */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include "check.h"

static char stack[256 * 1024];
static int cp[2], go[2];
static volatile sig_atomic_t got_usr1;

static void on_usr1(int s) { (void)s; got_usr1 = 1; }

static void write_int(int fd, int v) {
  if (write(fd, &v, sizeof v) != sizeof v) _exit(99);
}
static int read_int(int fd) {
  int v = -1;
  if (read(fd, &v, sizeof v) != sizeof v) return -1;
  return v;
}

/* An init that has a SIGUSR1 handler and nothing else; a member signals it. */
static int protected_init(void *arg) {
  (void)arg;
  signal(SIGUSR1, on_usr1);
  pid_t m = fork();
  if (m == 0) {
    int ok = kill(1, SIGTERM) == 0 && kill(1, SIGKILL) == 0 && kill(1, SIGINT) == 0 && kill(1, SIGSTOP) == 0
      && kill(1, SIGUSR1) == 0;
    _exit(ok ? 0 : 1);
  }
  int st = 0;
  waitpid(m, &st, 0);
  write_int(cp[1], WIFEXITED(st) && WEXITSTATUS(st) == 0);
  for (int i = 0; i < 100000 && !got_usr1; i++) usleep(1000);
  write_int(cp[1], got_usr1);
  /* Signals to itself with the default action are dropped too. */
  kill(getpid(), SIGTERM);
  raise(SIGHUP);
  write_int(cp[1], 1);
  /* Wait for the parent's SIGTERM (dropped) then SIGKILL (kills). */
  char c;
  write_int(cp[1], 2);
  for (;;) if (read(go[0], &c, 1) <= 0) pause();
  return 0;
}

/* An init that faults: the default SIGSEGV action still kills it. */
static int faulting_init(void *arg) {
  (void)arg;
  volatile int *p = (int *)8;
  *p = 1;
  return 0;
}

/* An init with a member holding the pipe: when init exits, the member is killed. */
static int dying_init(void *arg) {
  (void)arg;
  pid_t m = fork();
  if (m == 0) {
    close(go[0]);
    for (;;) pause();
  }
  write_int(cp[1], m);
  return 4;
}

int main(void) {
  CHECK("self_pid_1", getpid() == 1, "pid=%d", getpid());
  /* The test itself is an init: default-action signals to itself are dropped. */
  CHECK("self_sigterm_dropped", kill(getpid(), SIGTERM) == 0, "kill");
  CHECK("self_sigkill_dropped", kill(1, SIGKILL) == 0, "kill");
  CHECK("self_alive_after_sigkill", getpid() == 1, "alive");
  signal(SIGUSR2, on_usr1);
  got_usr1 = 0;
  raise(SIGUSR2);
  CHECK("self_handled_signal_delivered", got_usr1 == 1, "handler");

  if (pipe(cp) != 0 || pipe(go) != 0) return 1;
  got_usr1 = 0;
  pid_t c = clone(protected_init, stack + sizeof stack, CLONE_NEWPID | SIGCHLD, NULL);
  CHECK("clone_protected_init", c > 0, "clone");
  CHECK("member_kills_returned_0", read_int(cp[0]) == 1, "kills");
  CHECK("init_handler_ran", read_int(cp[0]) == 1, "usr1");
  CHECK("init_survived_own_signals", read_int(cp[0]) == 1, "self");
  CHECK("init_ready", read_int(cp[0]) == 2, "ready");
  CHECK("parent_sigterm_sent", kill(c, SIGTERM) == 0, "kill");
  int st = 0;
  CHECK("init_alive_after_parent_sigterm", waitpid(c, &st, WNOHANG) == 0, "st=%x", st);
  CHECK("parent_sigkill_sent", kill(c, SIGKILL) == 0, "kill");
  CHECK("init_killed_by_parent_sigkill", waitpid(c, &st, 0) == c && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "st=%x", st);

  c = clone(faulting_init, stack + sizeof stack, CLONE_NEWPID | SIGCHLD, NULL);
  CHECK("init_fault_kills", waitpid(c, &st, 0) == c && WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "st=%x", st);

  close(go[0]);
  close(go[1]);
  if (pipe(go) != 0) return 1;
  c = clone(dying_init, stack + sizeof stack, CLONE_NEWPID | SIGCHLD, NULL);
  close(go[1]);
  CHECK("member_pid_2", read_int(cp[0]) == 2, "member");
  CHECK("dying_init_exit", waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 4, "st=%x", st);
  /* The member held go's write end; it was killed, so the read sees end of file. */
  char ch;
  CHECK("init_death_killed_member", read(go[0], &ch, 1) == 0, "read");
  return 0;
}
