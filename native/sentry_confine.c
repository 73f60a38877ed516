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

/* The cloned child, single-threaded: finish entering the namespaces, then exec. */
static void child(const char *path, char **argv, int keep_fds, int netns_fd, int user_ns, uid_t uid, gid_t gid, int report_fd) {
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

/* sentrySpawn(execPath, argv[], keepFds, netnsPath, newNet) -> pid | -errno. The child runs
 * execPath in new mount, PID (it is pid 1 there, with its own /proc), IPC and UTS
 * namespaces, a new user namespace too when we are not root, and either a new network
 * namespace (newNet), the one at netnsPath (non-empty), or ours. It keeps fds
 * 0..keepFds-1 and our environment, and dies with its parent. */
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
    if (pid == 0) child(path, argv, (int)keep, netns_fd, user_ns, uid, gid, report[1]);
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

void tsv_register_sentry_confine(napi_env env, napi_value exports) {
  EXPORT("sentrySpawn", sentry_spawn);
  EXPORT("sentryPivotEmpty", sentry_pivot_empty);
}
