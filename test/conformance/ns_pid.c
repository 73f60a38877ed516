/* PID namespaces: ids inside and outside, kill and wait across the boundary, orphans
 * reparented to the namespace's init, init's death killing the namespace, SIGCHLD's si_pid,
 * /proc/self/status NSpid lines. Runs as root (natively under unshare, sandboxed as pid 1). */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <fcntl.h>
#include "check.h"

static int pipe_read_int(int fd) {
  int v = -1;
  if (read(fd, &v, sizeof v) != sizeof v) return -1;
  return v;
}

static void write_int(int fd, int v) {
  if (write(fd, &v, sizeof v) != sizeof v) _exit(99);
}

static char stack[256 * 1024];
static int cp[2];

/* The new namespace's init: an orphan (grandchild whose parent exits) comes to it. */
static int ns_init(void *arg) {
  (void)arg;
  int q[2];
  if (pipe(q) != 0) return 90;
  pid_t a = fork();
  if (a == 0) {
    pid_t b = fork();
    if (b == 0) {
      /* Wait until our parent is gone, then report who adopted us. */
      char c;
      close(q[1]);
      if (read(q[0], &c, 1) != 0) _exit(91);
      for (int i = 0; i < 100000 && getppid() != 1; i++) usleep(1000);
      write_int(cp[1], getppid());
      _exit(0);
    }
    write_int(cp[1], b);
    _exit(3);
  }
  close(q[0]);
  int st;
  write_int(cp[1], waitpid(a, &st, 0) == a && WEXITSTATUS(st) == 3);
  close(q[1]);
  /* The orphan is ours now: reap it. */
  pid_t r = wait(&st);
  write_int(cp[1], r > 1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
  write_int(cp[1], getpid());
  return 5;
}

static void clone_tests(void) {
  if (pipe(cp) != 0) return;
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigprocmask(SIG_BLOCK, &set, &old);
  pid_t c = clone(ns_init, stack + sizeof stack, CLONE_NEWPID | SIGCHLD, NULL);
  CHECK("clone_newpid_ok", c > 1, "clone=%d", c);
  if (c <= 0) return;
  close(cp[1]);
  CHECK("grandchild_pid_in_ns_is_3", pipe_read_int(cp[0]) == 3, "b");
  CHECK("ns_init_reaped_child", pipe_read_int(cp[0]) == 1, "a");
  CHECK("orphan_reparented_to_ns_init", pipe_read_int(cp[0]) == 1, "ppid");
  CHECK("ns_init_reaped_orphan", pipe_read_int(cp[0]) == 1, "reap");
  CHECK("ns_init_getpid_1", pipe_read_int(cp[0]) == 1, "pid");
  close(cp[0]);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  int s = sigwaitinfo(&set, &si);
  CHECK("sigchld_si_pid_is_outer_pid", s == SIGCHLD && si.si_pid == c && si.si_code == CLD_EXITED && si.si_status == 5, "si_pid=%d c=%d", si.si_pid, c);
  sigprocmask(SIG_SETMASK, &old, NULL);
  int st;
  CHECK("waitpid_ns_init", waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 5, "st=%x", st);
}

/* An init that waits for its pipe to close, so that others can join its namespace. */
static int waiting_init(void *arg) {
  int *fds = arg;
  int fd = fds[0];
  close(fds[1]);
  char c;
  while (read(fd, &c, 1) > 0) {
  }
  while (wait(NULL) > 0) {
  }
  return 0;
}

static int link_same(const char *a, const char *b) {
  char x[64] = "", y[64] = "";
  if (readlink(a, x, sizeof x - 1) < 0 || readlink(b, y, sizeof y - 1) < 0) return -1;
  return strcmp(x, y) == 0;
}

/* setns(pid): our children go into another namespace, we stay where we are. */
static void setns_tests(void) {
  int hold[2];
  if (pipe(hold) != 0) return;
  pid_t c = clone(waiting_init, stack + sizeof stack, CLONE_NEWPID | SIGCHLD, hold);
  close(hold[0]);
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/pid", c);
  int own = open("/proc/self/ns/pid", O_RDONLY);
  int fd = open(path, O_RDONLY);
  CHECK("open_child_pid_ns", fd >= 0 && own >= 0, "open %s", path);
  CHECK("child_pid_ns_differs", link_same(path, "/proc/self/ns/pid") == 0, "links");
  CHECK("setns_pid_ok", setns(fd, CLONE_NEWPID) == 0, "setns");
  CHECK("setns_pid_sets_for_children", link_same(path, "/proc/self/ns/pid_for_children") == 1, "links");
  CHECK("setns_pid_keeps_own_pid", getpid() == 1 && link_same("/proc/self/ns/pid", "/proc/1/ns/pid") == 1, "pid");
  int q[2];
  if (pipe(q) != 0) return;
  pid_t g = fork();
  if (g == 0) {
    write_int(q[1], getpid());
    write_int(q[1], getppid());
    _exit(0);
  }
  close(q[1]);
  CHECK("joined_child_pid_2", pipe_read_int(q[0]) == 2, "pid");
  CHECK("joined_child_ppid_0", pipe_read_int(q[0]) == 0, "ppid");
  close(q[0]);
  int st;
  CHECK("wait_joined_child", waitpid(g, &st, 0) == g && WIFEXITED(st), "wait");
  CHECK("setns_back_to_own", setns(own, CLONE_NEWPID) == 0 && link_same("/proc/self/ns/pid", "/proc/self/ns/pid_for_children") == 1, "back");
  close(hold[1]);
  CHECK("waiting_init_exit", waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0, "st=%x", st);
  close(fd);
  close(own);
}

/* Reads "Key:\t..." from /proc/self/status into out (the rest of the line). */
static int status_line(const char *key, char *out, size_t n) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  size_t kl = strlen(key);
  int found = -1;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
      snprintf(out, n, "%s", line + kl + 2);
      out[strcspn(out, "\n")] = 0;
      found = 0;
      break;
    }
  }
  fclose(f);
  return found;
}

int main(void) {
  CHECK("self_is_pid_1", getpid() == 1, "pid=%d", getpid());
  clone_tests();
  setns_tests();
  int p[2];
  /* A child in a new pid namespace via unshare + fork. */
  CHECK("unshare_newpid", unshare(CLONE_NEWPID) == 0, "unshare");
  CHECK("getpid_unchanged_after_unshare", getpid() > 0, "getpid");
  if (pipe(p) != 0) return 1;
  pid_t outer = getpid();
  pid_t c = fork();
  if (c == 0) {
    close(p[0]);
    write_int(p[1], getpid());
    write_int(p[1], getppid());
    write_int(p[1], (int)syscall(SYS_gettid));
    write_int(p[1], getpgid(0) == 0 ? 0 : 1);
    write_int(p[1], kill(2, 0) == -1 && errno == ESRCH && kill(outer, 0) == 0 ? 1 : 0);
    char buf[128] = "";
    status_line("NSpid", buf, sizeof buf);
    int tabs = 0;
    for (char *q = buf; *q; q++) tabs += *q == '\t';
    write_int(p[1], tabs);
    _exit(7);
  }
  close(p[1]);
  CHECK("fork_into_ns_ok", c > 0, "fork");
  CHECK("child_getpid_is_1", pipe_read_int(p[0]) == 1, "pid");
  CHECK("child_getppid_is_0", pipe_read_int(p[0]) == 0, "ppid");
  CHECK("child_gettid_is_1", pipe_read_int(p[0]) == 1, "tid");
  CHECK("child_pgid_outside_is_0", pipe_read_int(p[0]) == 0, "pgid");
  CHECK("child_sees_only_its_ns", pipe_read_int(p[0]) == 1, "kill");
  CHECK("child_nspid_two_levels", pipe_read_int(p[0]) == 1, "NSpid");
  close(p[0]);
  int st = 0;
  CHECK("parent_waits_host_pid", waitpid(c, &st, 0) == c, "waitpid");
  CHECK("child_exit_status", WIFEXITED(st) && WEXITSTATUS(st) == 7, "st=%x", st);

  /* After unshare, pid_for_children differs from pid; a second unshare is EINVAL. */
  errno = 0;
  CHECK("second_unshare_einval", unshare(CLONE_NEWPID) == -1 && errno == EINVAL, "unshare");
  /* The namespace's init died: nothing more can be forked into it (ENOMEM). */
  errno = 0;
  pid_t d = fork();
  if (d == 0) _exit(0);
  CHECK("fork_into_dead_ns_enomem", d == -1 && errno == ENOMEM, "fork=%d", d);
  if (d > 0) waitpid(d, NULL, 0);

  return 0;
}
