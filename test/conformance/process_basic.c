/* Processes: fork/vfork/posix_spawn, exec with argv and environment, parent ids,
 * sessions and process groups, prctl (names, death signal, child subreaper), orphan
 * re-parenting, copy-on-write separation, rlimits. */
#define _GNU_SOURCE
#include "check.h"
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

extern char **environ;

static int death_fd;
static pid_t reaper_pid;
static void on_parent_death(int s) {
  (void)s;
  char r = getppid() == reaper_pid ? 'y' : 'n';
  write(death_fd, &r, 1);
  _exit(7);
}

static int wait_status(pid_t p) {
  int st = -1;
  waitpid(p, &st, 0);
  return st;
}

int main(int argc, char **argv) {
  if (argc > 2 && strcmp(argv[1], "echo-env") == 0) {
    const char *v = getenv("CONF_VAR");
    _exit(v != NULL && strcmp(v, "hello") == 0 && strcmp(argv[2], "arg two") == 0 ? 0 : 1);
  }
  alarm(60);
  pid_t me = getpid();

  int value = 1;
  pid_t p = fork();
  if (p == 0) {
    value = 2;
    _exit(getppid() == me ? 0 : 1);
  }
  int st = wait_status(p);
  CHECK("fork-child-ppid", WIFEXITED(st) && WEXITSTATUS(st) == 0, "status=%x", st);
  CHECK("fork-cow-separate", value == 1, "value=%d", value);
  CHECK("fork-returns-child-pid", p > 0 && p != me, "p=%d", p);

  char *big = malloc(1 << 20);
  memset(big, 'a', 1 << 20);
  p = fork();
  if (p == 0) {
    for (int i = 0; i < (1 << 20); i += 4096) big[i] = 'b';
    _exit(big[4096] == 'b' ? 0 : 1);
  }
  st = wait_status(p);
  CHECK("fork-cow-large-buffer", WEXITSTATUS(st) == 0 && big[4096] == 'a', "parent saw %c", big[4096]);

  char *sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  sh[0] = 0;
  p = fork();
  if (p == 0) {
    sh[0] = 'S';
    _exit(0);
  }
  wait_status(p);
  CHECK("map-shared-visible-after-fork", sh[0] == 'S', "got %d", sh[0]);

  volatile int vf = 0;
  p = vfork();
  if (p == 0) {
    vf = 1;
    _exit(5);
  }
  st = wait_status(p);
  CHECK("vfork-shares-memory", vf == 1 && WEXITSTATUS(st) == 5, "vf=%d", vf);

  char *cargv[] = {argv[0], "echo-env", "arg two", NULL};
  char *cenv[] = {"CONF_VAR=hello", NULL};
  p = fork();
  if (p == 0) {
    execve(argv[0], cargv, cenv);
    _exit(99);
  }
  st = wait_status(p);
  CHECK("execve-argv-env", WIFEXITED(st) && WEXITSTATUS(st) == 0, "status=%x", st);
  p = fork();
  if (p == 0) {
    execve("/nonexistent/binary", cargv, cenv);
    _exit(errno == ENOENT ? 0 : 1);
  }
  st = wait_status(p);
  CHECK("execve-enoent", WEXITSTATUS(st) == 0, "status=%x", st);

  pid_t sp;
  CHECK("posix-spawn", posix_spawn(&sp, argv[0], NULL, NULL, cargv, cenv) == 0, "failed");
  st = wait_status(sp);
  CHECK("posix-spawn-status", WIFEXITED(st) && WEXITSTATUS(st) == 0, "status=%x", st);

  /* Sessions and process groups */
  p = fork();
  if (p == 0) {
    pid_t s = setsid();
    int ok = s == getpid() && getsid(0) == getpid() && getpgrp() == getpid();
    int again = setsid() == -1 && errno == EPERM;
    _exit(ok && again ? 0 : 1);
  }
  st = wait_status(p);
  CHECK("setsid-new-session", WEXITSTATUS(st) == 0, "status=%x", st);
  p = fork();
  if (p == 0) {
    for (;;) pause();
  }
  CHECK("setpgid-child", setpgid(p, p) == 0 && getpgid(p) == p, "pgid=%d", getpgid(p));
  CHECK("getsid-child-same-session", getsid(p) == getsid(0), "sid=%d", getsid(p));
  CHECK("kill-process-group", kill(-p, SIGTERM) == 0, "failed");
  st = wait_status(p);
  CHECK("kill-process-group-delivered", WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM, "status=%x", st);
  CHECK("setpgid-esrch", setpgid(p, p) == -1 && errno == ESRCH, "no ESRCH");
  CHECK("kill-empty-group-esrch", kill(-p, SIGTERM) == -1 && errno == ESRCH, "no ESRCH");
  CHECK("getpgid-esrch", getpgid(p) == -1 && errno == ESRCH, "no ESRCH");

  /* prctl */
  char name[17] = {0};
  CHECK("prctl-set-name", prctl(PR_SET_NAME, "conf-proc-name") == 0, "failed");
  prctl(PR_GET_NAME, name);
  CHECK("prctl-get-name", strcmp(name, "conf-proc-name") == 0, "name=%s", name);
  prctl(PR_SET_NAME, "a-very-long-process-name");
  prctl(PR_GET_NAME, name);
  CHECK("prctl-name-truncated", strcmp(name, "a-very-long-pro") == 0, "name=%s", name);
  int ds = -1;
  prctl(PR_SET_PDEATHSIG, SIGUSR2);
  prctl(PR_GET_PDEATHSIG, &ds);
  CHECK("prctl-pdeathsig-roundtrip", ds == SIGUSR2, "ds=%d", ds);
  prctl(PR_SET_PDEATHSIG, 0);
  CHECK("prctl-bad-pdeathsig", prctl(PR_SET_PDEATHSIG, 999) == -1 && errno == EINVAL, "accepted");

  /* Subreaper: orphans come to us, and a parent's death signals its child. */
  CHECK("prctl-child-subreaper", prctl(PR_SET_CHILD_SUBREAPER, 1) == 0, "failed");
  int sr = 0;
  prctl(PR_GET_CHILD_SUBREAPER, &sr);
  CHECK("prctl-get-child-subreaper", sr == 1, "sr=%d", sr);
  int pfd[2];
  pipe(pfd);
  p = fork();
  if (p == 0) {
    pid_t g = fork();
    if (g == 0) {
      close(pfd[0]);
      death_fd = pfd[1];
      reaper_pid = me;
      signal(SIGUSR1, on_parent_death);
      prctl(PR_SET_PDEATHSIG, SIGUSR1);
      for (;;) pause();
    }
    usleep(20000);
    _exit(0);
  }
  close(pfd[1]);
  wait_status(p);
  char r = 0;
  read(pfd[0], &r, 1);
  CHECK("orphan-reparented-to-subreaper", r == 'y', "r=%c", r);
  int gst;
  pid_t g = wait(&gst);
  CHECK("pdeathsig-and-subreaper-reaps-orphan", g > 0 && WIFEXITED(gst) && WEXITSTATUS(gst) == 7, "g=%d status=%x", g, gst);
  close(pfd[0]);

  /* rlimits */
  struct rlimit rl;
  CHECK("getrlimit-nofile", getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > 0 && rl.rlim_cur <= rl.rlim_max, "cur=%ld", (long)rl.rlim_cur);
  struct rlimit lower = {64, rl.rlim_max};
  setrlimit(RLIMIT_NOFILE, &lower);
  struct rlimit now;
  getrlimit(RLIMIT_NOFILE, &now);
  CHECK("setrlimit-lowers", now.rlim_cur == 64, "cur=%ld", (long)now.rlim_cur);
  struct rlimit bad = {100, 50};
  CHECK("setrlimit-cur-above-max", setrlimit(RLIMIT_NOFILE, &bad) == -1 && errno == EINVAL, "accepted");
  p = fork();
  if (p == 0) {
    struct rlimit c;
    getrlimit(RLIMIT_NOFILE, &c);
    _exit(c.rlim_cur == 64 ? 0 : 1);
  }
  st = wait_status(p);
  CHECK("rlimit-inherited", WEXITSTATUS(st) == 0, "status=%x", st);
  setrlimit(RLIMIT_NOFILE, &rl);
  CHECK("getpid-gettid-main", getpid() == syscall(SYS_gettid), "differ");
  return 0;
}
