/*
 * Starting the Sentry confined: a single-threaded clone of the CLI enters fresh mount, PID,
 * IPC, UTS (and network, or joins the sandbox's) namespaces before it execs Node, so every
 * thread of the Sentry lives in them from its first instruction. Returns -errno, never aborts.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "napi_args.h"
#include "write_text.h"

/* Linux's own limits: MAX_ARG_STRLEN per string, and far more strings than a command line holds. */
#define ARG_MAX_LEN 131072
#define ARGV_MAX 65536

extern char **environ;

/* A JS string copied into a fresh buffer; NULL when not a string, too long or holding a NUL. */
static char *dup_string(napi_env env, napi_value v) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok || len >= ARG_MAX_LEN) return NULL;
  char *s = malloc(len + 1);
  if (s == NULL) return NULL;
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  if (strlen(s) != len) {
    free(s);
    return NULL;
  }
  return s;
}

/* The child's failure before exec: its errno goes up the close-on-exec pipe. */
static void fail(int report_fd) {
  int e = errno;
  if (write(report_fd, &e, sizeof e) < 0) _exit(126);
  _exit(127);
}

/* The root's Gofer, started by the Sentry child before it execs Node (so the two Nodes
 * start in parallel): argv NULL for none. pid_slot, a string of the Sentry's argv at least
 * 11 bytes long, gets the Gofer's pid. */
struct early_gofer {
  const char *path;
  char **argv;
  char *pid_slot;
};

/* The Gofer's side of the fork, as goferSpawn (gofer.c) does it: a mount namespace of its
 * own, io as fd 3, donate as fd 4, our stderr, no environment; dies with the Sentry. */
static void early_gofer_exec(const struct early_gofer *g, pid_t parent, int io, int donate) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(125);
  if (unshare(CLONE_NEWNS) != 0) _exit(124);
  int a = fcntl(io, F_DUPFD, 10), b = fcntl(donate, F_DUPFD, 10);
  if (a < 0 || b < 0 || dup2(a, 3) != 3 || dup2(b, 4) != 4) _exit(125);
  close(0);
  close(1);
  fcntl(2, F_SETFD, 0);
  syscall(SYS_close_range, 5, ~0U, 0);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  char *envp[] = {NULL};
  execve(g->path, g->argv, envp);
  _exit(127);
}

/* Starts the early Gofer; our ends of its 9P stream and donation sockets become fds
 * keep_fds and keep_fds+1. Returns the new keep_fds. */
static int start_early_gofer(const struct early_gofer *g, int keep_fds, int *report_fd) {
  /* Nothing we still need may sit where our ends go. */
  if (*report_fd == keep_fds || *report_fd == keep_fds + 1) {
    int r = fcntl(*report_fd, F_DUPFD_CLOEXEC, keep_fds + 2);
    if (r < 0) fail(*report_fd);
    *report_fd = r;
  }
  int io[2], don[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, io) != 0) fail(*report_fd);
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, don) != 0) fail(*report_fd);
  pid_t self = getpid();
  pid_t pid = fork();
  if (pid < 0) fail(*report_fd);
  if (pid == 0) early_gofer_exec(g, self, io[1], don[1]);
  close(io[1]);
  close(don[1]);
  int a = fcntl(io[0], F_DUPFD_CLOEXEC, keep_fds + 2), b = fcntl(don[0], F_DUPFD_CLOEXEC, keep_fds + 2);
  if (a < 0 || b < 0 || dup2(a, keep_fds) != keep_fds || dup2(b, keep_fds + 1) != keep_fds + 1) fail(*report_fd);
  snprintf(g->pid_slot, 11, "%d", (int)pid);
  return keep_fds + 2;
}

/* The cloned child, single-threaded: finish entering the namespaces, then exec. */
static void child(const char *path, char **argv, int keep_fds, int netns_fd, int user_ns, uid_t uid, gid_t gid, int report_fd,
                  const struct early_gofer *gofer) {
  char map[64];
  /* Unprivileged: our own uid and gid are root inside the new user namespace. */
  if (user_ns) {
    if (write_text("/proc/self/setgroups", "deny") != 0) fail(report_fd);
    snprintf(map, sizeof map, "0 %u 1\n", (unsigned)uid);
    if (write_text("/proc/self/uid_map", map) != 0) fail(report_fd);
    snprintf(map, sizeof map, "0 %u 1\n", (unsigned)gid);
    if (write_text("/proc/self/gid_map", map) != 0) fail(report_fd);
  }
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail(report_fd);
  /* --network=sandbox: the namespace that holds the sandbox's interface. */
  if (netns_fd >= 0 && setns(netns_fd, CLONE_NEWNET) != 0) fail(report_fd);
  /* Nothing we mount may propagate to the host; /proc must show our PID namespace. */
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) fail(report_fd);
  if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) fail(report_fd);
  if (gofer->argv != NULL) keep_fds = start_early_gofer(gofer, keep_fds, &report_fd);
  /* Node marks the stdio it inherited close-on-exec; the Sentry keeps fds 0..keep_fds-1.
   * The rest close at exec (the report pipe must stay open until then). */
  for (int fd = 0; fd < keep_fds; fd++) fcntl(fd, F_SETFD, 0);
  if (syscall(SYS_close_range, (unsigned)keep_fds, ~0U, CLOSE_RANGE_CLOEXEC) != 0) fail(report_fd);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  execve(path, argv, environ);
  fail(report_fd);
}

/* A JS array of strings as a NULL-terminated argv (*n entries); NULL when not one. */
static char **dup_argv(napi_env env, napi_value arr, uint32_t *n) {
  bool is_arr = false;
  napi_is_array(env, arr, &is_arr);
  *n = 0;
  if (!is_arr) return NULL;
  napi_get_array_length(env, arr, n);
  if (*n == 0 || *n > ARGV_MAX) return NULL;
  char **argv = calloc(*n + 1, sizeof(char *));
  for (uint32_t i = 0; argv != NULL && i < *n; i++) {
    napi_value v;
    napi_get_element(env, arr, i, &v);
    argv[i] = dup_string(env, v);
    if (argv[i] == NULL) {
      for (uint32_t j = 0; j < i; j++) free(argv[j]);
      free(argv);
      argv = NULL;
    }
  }
  return argv;
}

/* sentrySpawn(execPath, argv[], keepFds, netnsPath, newNet[, goferArgv[], goferPidSlot])
 * -> pid | -errno. The child runs execPath in new mount, PID (it is pid 1 there, with its
 * own /proc), IPC and UTS namespaces, a new user namespace too when we are not root, and
 * either a new network namespace (newNet), the one at netnsPath (non-empty), or ours. It
 * keeps fds 0..keepFds-1 and our environment, and dies with its parent. With goferArgv,
 * it first starts execPath goferArgv as the root's Gofer (early_gofer) in those
 * namespaces, keeps its sockets as fds keepFds (9P) and keepFds+1 (donations), and
 * argv[goferPidSlot] (at least 10 characters) becomes the Gofer's pid. */
static napi_value sentry_spawn(napi_env env, napi_callback_info info) {
  ARGS(5);
  int64_t keep = arg_i64(&A, 2), new_net = arg_i64(&A, 4);
  CHECK();
  if (keep < 0 || keep > 64) return num(env, -EINVAL);
  bool is_arr = false;
  napi_is_array(env, A.argv[1], &is_arr);
  if (!is_arr) return num(env, -EINVAL);
  uint32_t n = 0;
  napi_get_array_length(env, A.argv[1], &n);
  if (n == 0 || n > ARGV_MAX) return num(env, -EINVAL);
  char *path = dup_string(env, A.argv[0]);
  char *netns = dup_string(env, A.argv[3]);
  char **argv = calloc(n + 1, sizeof(char *));
  int r = (path == NULL || netns == NULL || argv == NULL) ? -EINVAL : 0;
  for (uint32_t i = 0; i < n && r == 0; i++) {
    napi_value v;
    napi_get_element(env, A.argv[1], i, &v);
    argv[i] = dup_string(env, v);
    if (argv[i] == NULL) r = -EINVAL;
  }
  struct early_gofer gofer = {path, NULL, NULL};
  uint32_t gn = 0;
  if (r == 0 && A.argc >= 7) {
    int64_t slot = arg_i64(&A, 6);
    gofer.argv = A.bad ? NULL : dup_argv(env, A.argv[5], &gn);
    if (gofer.argv == NULL || slot < 0 || slot >= n || strlen(argv[slot]) < 10 || keep + 2 > 64) r = -EINVAL;
    else gofer.pid_slot = argv[slot];
  }
  int netns_fd = -1, report[2] = {-1, -1};
  if (r == 0 && netns[0] != 0) {
    if (new_net) r = -EINVAL;
    else if ((netns_fd = open(netns, O_RDONLY | O_CLOEXEC)) < 0) r = -errno;
  }
  if (r == 0 && pipe2(report, O_CLOEXEC) != 0) r = -errno;
  if (r == 0) {
    uid_t uid = geteuid();
    gid_t gid = getegid();
    int user_ns = uid != 0;
    long flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | SIGCHLD;
    if (new_net) flags |= CLONE_NEWNET;
    if (user_ns) flags |= CLONE_NEWUSER;
    /* A fork-like clone (no new stack): the child continues here with a copy of memory. */
    long pid = syscall(SYS_clone, flags, NULL, NULL, NULL, 0);
    if (pid == 0) child(path, argv, (int)keep, netns_fd, user_ns, uid, gid, report[1], &gofer);
    r = pid < 0 ? -errno : (int)pid;
  }
  if (report[1] >= 0) close(report[1]);
  if (r > 0) {
    /* EOF: the exec happened. An errno: the child failed before it and has exited. */
    int e = 0;
    ssize_t got;
    do got = read(report[0], &e, sizeof e);
    while (got < 0 && errno == EINTR);
    if (got == (ssize_t)sizeof e) {
      while (waitpid((pid_t)r, NULL, __WALL) < 0 && errno == EINTR) {}
      r = -(e > 0 ? e : EIO);
    }
  }
  if (report[0] >= 0) close(report[0]);
  if (netns_fd >= 0) close(netns_fd);
  if (argv != NULL)
    for (uint32_t i = 0; i < n; i++) free(argv[i]);
  free(argv);
  if (gofer.argv != NULL)
    for (uint32_t i = 0; i < gn; i++) free(gofer.argv[i]);
  free(gofer.argv);
  free(path);
  free(netns);
  return num(env, r);
}

/* sentryPivotEmpty() -> 0 | -errno. Once booted, the Sentry needs no path at all: its root
 * becomes an empty read-only tmpfs and the old root (host mounts, /proc) is detached, so
 * no path syscall can reach a host file. Only for the spawned Sentry, pid 1 of its own
 * PID namespace created together with its mount namespace (never the host's pid 1). */
static napi_value sentry_pivot_empty(napi_env env, napi_callback_info info) {
  (void)info;
  if (getpid() != 1) return num(env, -EPERM);
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) return num(env, -errno);
  /* /proc always exists: the scratch tmpfs goes over it and becomes the new root. */
  if (mount("tmpfs", "/proc", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,nr_inodes=2,mode=0555") != 0 ||
      chdir("/proc") != 0 || syscall(SYS_pivot_root, ".", ".") != 0 || umount2(".", MNT_DETACH) != 0 || chdir("/") != 0)
    return num(env, -errno);
  if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
    return num(env, -errno);
  return num(env, 0);
}

/* execSentryWait(path, pid) -> -errno (on success it does not return). `do`'s parent,
 * with nothing left to do but wait for the Sentry (its child), becomes the small waiter at
 * path (native/sentry_wait.c); children and stdio carry over the exec. */
static napi_value exec_sentry_wait(napi_env env, napi_callback_info info) {
  ARGS(2);
  int64_t pid = arg_i64(&A, 1);
  CHECK();
  if (pid <= 0 || pid > 0x7fffffff) return num(env, -EINVAL);
  char *path = dup_string(env, A.argv[0]);
  if (path == NULL) return num(env, -EINVAL);
  char pid_s[16];
  snprintf(pid_s, sizeof pid_s, "%d", (int)pid);
  char *argv[] = {path, pid_s, NULL};
  /* Node marks the stdio it inherited close-on-exec; the waiter reports on stderr. */
  int saved[3];
  for (int fd = 0; fd < 3; fd++) {
    saved[fd] = fcntl(fd, F_GETFD);
    if (saved[fd] >= 0) fcntl(fd, F_SETFD, saved[fd] & ~FD_CLOEXEC);
  }
  execve(path, argv, environ);
  int e = errno;
  for (int fd = 0; fd < 3; fd++)
    if (saved[fd] >= 0) fcntl(fd, F_SETFD, saved[fd]);
  free(path);
  return num(env, -e);
}

void tsv_register_sentry_confine(napi_env env, napi_value exports) {
  EXPORT("execSentryWait", exec_sentry_wait);
  EXPORT("sentrySpawn", sentry_spawn);
  EXPORT("sentryPivotEmpty", sentry_pivot_empty);
}
