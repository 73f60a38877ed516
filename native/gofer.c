/*
 * What the Gofer (and the Sentry's side of its channel) need from the kernel that Node's fs
 * cannot give: spawning the Gofer in a fresh mount namespace, pivot_root, capability
 * dropping, *at path operations relative to directory fds (one component, no symlinks),
 * getdents64 on an fd, and fd passing over a unix socket. Every call returns -errno.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "napi_args.h"
#include "write_text.h"

#define PATH_BUF 4096

/* A string argument copied into buf; -1 when missing, not a string or too long. */
static int arg_str(args_t *a, size_t i, char *buf, size_t cap) {
  size_t len = 0;
  if (i >= a->argc) return -1;
  napi_valuetype t;
  napi_typeof(a->env, a->argv[i], &t);
  if (t != napi_string) return -1;
  if (napi_get_value_string_utf8(a->env, a->argv[i], buf, cap, &len) != napi_ok) return -1;
  if (len >= cap - 1) return -1;
  /* A NUL inside the JS string would silently shorten the name: refuse it. */
  if (strlen(buf) != len) return -1;
  return (int)len;
}

#define STR(i, buf)                                              \
  char buf[PATH_BUF];                                            \
  if (arg_str(&A, (i), buf, sizeof buf) < 0) return num(env, -EINVAL);

/* One path component: not empty, not "." or "..", no '/'. */
static int is_component(const char *s) {
  return s[0] != 0 && strchr(s, '/') == NULL && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

/* ---- spawning and confinement ---- */

/* Without privilege on the host (not root): a user namespace where our own uid and gid
 * are root, with a mount namespace it owns. Host files are then reached with exactly the
 * invoking user's rights. Runs in the single-threaded child between fork and exec. */
static int enter_user_ns(void) {
  uid_t uid = geteuid();
  gid_t gid = getegid();
  if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) return -1;
  char map[64];
  if (write_text("/proc/self/setgroups", "deny") != 0) return -1;
  snprintf(map, sizeof map, "0 %u 1\n", (unsigned)uid);
  if (write_text("/proc/self/uid_map", map) != 0) return -1;
  snprintf(map, sizeof map, "0 %u 1\n", (unsigned)gid);
  if (write_text("/proc/self/gid_map", map) != 0) return -1;
  return 0;
}

/* goferSpawn(execPath, argv[], ioFd, donateFd) -> pid | -errno. The child enters a new mount
 * namespace before exec (inside a user namespace of its own when we are not root), so
 * every thread of the Gofer lives in it from the start; it gets
 * ioFd as fd 3, donateFd as fd 4, our stderr, and dies with its parent. */
static napi_value gofer_spawn(napi_env env, napi_callback_info info) {
  ARGS(4);
  STR(0, path);
  int64_t io = arg_i64(&A, 2), donate = arg_i64(&A, 3);
  CHECK();
  if (io < 0 || donate < 0) return num(env, -EBADF);
  bool is_arr = false;
  napi_is_array(env, A.argv[1], &is_arr);
  if (!is_arr) return num(env, -EINVAL);
  uint32_t n = 0;
  napi_get_array_length(env, A.argv[1], &n);
  if (n == 0 || n > 64) return num(env, -EINVAL);
  char **argv = calloc(n + 1, sizeof(char *));
  if (argv == NULL) return num(env, -ENOMEM);
  int bad = 0;
  for (uint32_t i = 0; i < n && !bad; i++) {
    napi_value v;
    size_t len = 0;
    napi_get_element(env, A.argv[1], i, &v);
    if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok || len >= PATH_BUF) { bad = 1; break; }
    argv[i] = malloc(len + 1);
    if (argv[i] == NULL) { bad = 1; break; }
    napi_get_value_string_utf8(env, v, argv[i], len + 1, &len);
  }
  pid_t pid = -1;
  int e = EINVAL;
  if (!bad) {
    pid_t parent = getpid();
    pid = fork();
    e = errno;
    if (pid == 0) {
      if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(125);
      if (unshare(CLONE_NEWNS) != 0 && enter_user_ns() != 0) _exit(124);
      int a = fcntl((int)io, F_DUPFD, 10), b = fcntl((int)donate, F_DUPFD, 10);
      if (a < 0 || b < 0) _exit(125);
      if (dup2(a, 3) != 3 || dup2(b, 4) != 4) _exit(125);
      close(0);
      close(1);
      /* Node marks the stdio it inherited close-on-exec; the Gofer reports on our stderr. */
      fcntl(2, F_SETFD, 0);
      syscall(SYS_close_range, 5, ~0U, 0);
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, NULL);
      char *envp[] = {NULL};
      execve(path, argv, envp);
      _exit(127);
    }
  }
  for (uint32_t i = 0; i < n; i++) free(argv[i]);
  free(argv);
  if (bad) return num(env, -EINVAL);
  if (pid < 0) return num(env, -e);
  return num(env, pid);
}

/* childWait(pid, block) -> wait status | -1 if still running (non-blocking) | -errno. */
static napi_value child_wait(napi_env env, napi_callback_info info) {
  ARGS(2);
  int64_t pid = arg_i64(&A, 0), block = arg_i64(&A, 1);
  CHECK();
  if (pid <= 0) return num(env, -EINVAL);
  int status = 0;
  pid_t r;
  do r = waitpid((pid_t)pid, &status, block ? __WALL : (WNOHANG | __WALL));
  while (r < 0 && errno == EINTR);
  if (r < 0) return num(env, -errno);
  if (r == 0) return num(env, -1);
  return num(env, status);
}

/* In the initial user namespace, uid_map is the identity map of every uid. */
static int in_initial_user_ns(void) {
  char buf[128] = {0};
  int fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  unsigned a, b, c;
  if (n <= 0 || sscanf(buf, "%u %u %u", &a, &b, &c) != 3) return 1;
  return a == 0 && b == 0 && c == 4294967295u;
}

/* Our mount namespace differs from our parent's: pivot_root cannot touch the host's. When
 * the parent's is out of sight (we are in a user namespace of our own), mount changes can
 * only reach namespaces that user namespace owns, so they cannot touch the host's either. */
static int in_own_mount_ns(void) {
  char p[64];
  struct stat self, parent;
  snprintf(p, sizeof p, "/proc/%d/ns/mnt", (int)getppid());
  if (stat("/proc/self/ns/mnt", &self) != 0) return 0;
  if (stat(p, &parent) != 0) return errno == EACCES && !in_initial_user_ns();
  return self.st_ino != parent.st_ino || self.st_dev != parent.st_dev;
}

/* goferPivot(root) -> 0 | -errno. In our private mount namespace: every mount private, a
 * recursive copy of root's mount tree moved onto a scratch tmpfs over /proc (always there;
 * this also works when root is "/"), pivot_root into it and detach the old root, so nothing
 * outside root is reachable by any path from any thread. */
static napi_value gofer_pivot(napi_env env, napi_callback_info info) {
  ARGS(1);
  STR(0, root);
  if (root[0] != '/') return num(env, -EINVAL);
  if (!in_own_mount_ns()) return num(env, -EPERM);
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) return num(env, -errno);
  int tree = (int)syscall(SYS_open_tree, AT_FDCWD, root, 1 /* OPEN_TREE_CLONE */ | O_CLOEXEC | AT_RECURSIVE);
  if (tree < 0) return num(env, -errno);
  int r = 0;
  if (mount("tmpfs", "/proc", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=16k,mode=0700") != 0 ||
      mkdir("/proc/root", 0700) != 0 ||
      syscall(SYS_move_mount, tree, "", AT_FDCWD, "/proc/root", 4 /* MOVE_MOUNT_F_EMPTY_PATH */) != 0 ||
      chdir("/proc/root") != 0 || syscall(SYS_pivot_root, ".", ".") != 0 || umount2(".", MNT_DETACH) != 0 ||
      chdir("/") != 0)
    r = -errno;
  close(tree);
  return num(env, r);
}

/* dropCaps(keepLo, keepHi) -> 0 | -errno: the bounding, ambient, inheritable sets lose
 * everything; effective and permitted keep only the given bits of what we hold. */
static napi_value drop_caps(napi_env env, napi_callback_info info) {
  ARGS(2);
  uint32_t keep[2] = {(uint32_t)arg_i64(&A, 0), (uint32_t)arg_i64(&A, 1)};
  CHECK();
  for (int c = 0; c < 64; c++) {
    if (keep[c / 32] & (1u << (c % 32))) continue;
    if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0 && errno != EINVAL) return num(env, -errno);
  }
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct d[2];
  if (syscall(SYS_capget, &h, d) != 0) return num(env, -errno);
  for (int i = 0; i < 2; i++) {
    d[i].effective &= keep[i];
    d[i].permitted &= keep[i];
    d[i].inheritable = 0;
  }
  if (syscall(SYS_capset, &h, d) != 0) return num(env, -errno);
  return num(env, 0);
}

/* openRoot(path) -> O_PATH directory fd | -errno: the export's root, opened once at start. */
static napi_value open_root(napi_env env, napi_callback_info info) {
  ARGS(1);
  STR(0, path);
  if (path[0] != '/') return num(env, -EINVAL);
  int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return num(env, -errno);
  return num(env, fd);
}

/* ---- path operations, each on one component relative to a directory fd ---- */

/* openComponent(dirfd, name, flags, mode) -> fd | -errno. name is one component ("."
 * reopens dirfd itself); no symlink is followed and nothing outside dirfd is reached. */
static napi_value open_component(napi_env env, napi_callback_info info) {
  ARGS(4);
  int64_t dirfd = arg_i64(&A, 0);
  STR(1, name);
  int64_t flags = arg_i64(&A, 2), mode = arg_i64(&A, 3);
  CHECK();
  if (dirfd < 0) return num(env, -EBADF);
  if (strcmp(name, ".") != 0 && !is_component(name)) return num(env, -EINVAL);
  struct open_how how;
  memset(&how, 0, sizeof how);
  /* openat2 refuses O_PATH with any flag beyond O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC. */
  how.flags = (uint64_t)(flags | O_NOFOLLOW | O_CLOEXEC | ((flags & O_PATH) ? 0 : O_NOCTTY));
  how.mode = (flags & (O_CREAT | O_TMPFILE)) ? (uint64_t)(mode & 07777) : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  long fd = syscall(SYS_openat2, (int)dirfd, name, &how, sizeof how);
  if (fd < 0) return num(env, -errno);
  return num(env, (double)fd);
}

/* statFd(fd, out: BigInt64Array(16)) -> 0 | -errno. The file fd refers to (O_PATH fds too):
 * dev ino mode nlink uid gid rdev size blksize blocks atime(s,ns) mtime(s,ns) ctime(s,ns). */
static napi_value stat_fd(napi_env env, napi_callback_info info) {
  ARGS(2);
  int64_t fd = arg_i64(&A, 0);
  int64_t *out = arg_buf(&A, 1, 16 * 8);
  CHECK();
  if (fd < 0) return num(env, -EBADF);
  struct stat st;
  if (fstatat((int)fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) return num(env, -errno);
  int64_t v[16] = {(int64_t)st.st_dev, (int64_t)st.st_ino, st.st_mode, (int64_t)st.st_nlink, st.st_uid,
                   st.st_gid, (int64_t)st.st_rdev, st.st_size, st.st_blksize, st.st_blocks,
                   st.st_atim.tv_sec, st.st_atim.tv_nsec, st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
                   st.st_ctim.tv_sec, st.st_ctim.tv_nsec};
  memcpy(out, v, sizeof v);
  return num(env, 0);
}

/* statfsFd(fd, out: BigInt64Array(9)) -> 0 | -errno: type bsize blocks bfree bavail files ffree namelen frsize. */
static napi_value statfs_fd(napi_env env, napi_callback_info info) {
  ARGS(2);
  int64_t fd = arg_i64(&A, 0);
  int64_t *out = arg_buf(&A, 1, 9 * 8);
  CHECK();
  if (fd < 0) return num(env, -EBADF);
  struct statfs s;
  if (fstatfs((int)fd, &s) != 0) return num(env, -errno);
  int64_t v[9] = {s.f_type, s.f_bsize, (int64_t)s.f_blocks, (int64_t)s.f_bfree, (int64_t)s.f_bavail,
                  (int64_t)s.f_files, (int64_t)s.f_ffree, s.f_namelen, s.f_frsize};
  memcpy(out, v, sizeof v);
  return num(env, 0);
}

/* mkdirAt(dirfd, name, mode), mknodAt(dirfd, name, mode, major, minor) -> 0 | -errno. */
static napi_value mkdir_at(napi_env env, napi_callback_info info) {
  ARGS(3);
  int64_t dirfd = arg_i64(&A, 0);
  STR(1, name);
  int64_t mode = arg_i64(&A, 2);
  CHECK();
  if (!is_component(name)) return num(env, -EINVAL);
  if (mkdirat((int)dirfd, name, (mode_t)(mode & 07777)) != 0) return num(env, -errno);
  return num(env, 0);
}

static napi_value mknod_at(napi_env env, napi_callback_info info) {
  ARGS(5);
  int64_t dirfd = arg_i64(&A, 0);
  STR(1, name);
  int64_t mode = arg_i64(&A, 2), major = arg_i64(&A, 3), minor = arg_i64(&A, 4);
  CHECK();
  if (!is_component(name)) return num(env, -EINVAL);
  if (mknodat((int)dirfd, name, (mode_t)mode, makedev((unsigned)major, (unsigned)minor)) != 0) return num(env, -errno);
  return num(env, 0);
}

/* symlinkAt(target, dirfd, name) -> 0 | -errno. The target is stored, never followed here. */
static napi_value symlink_at(napi_env env, napi_callback_info info) {
  ARGS(3);
  STR(0, target);
  int64_t dirfd = arg_i64(&A, 1);
  STR(2, name);
  CHECK();
  if (!is_component(name) || target[0] == 0) return num(env, -EINVAL);
  if (symlinkat(target, (int)dirfd, name) != 0) return num(env, -errno);
  return num(env, 0);
}

/* linkAt(fd, newdirfd, newname) -> 0 | -errno: a new name for the file fd (O_PATH) refers to. */
static napi_value link_at(napi_env env, napi_callback_info info) {
  ARGS(3);
  int64_t fd = arg_i64(&A, 0), dirfd = arg_i64(&A, 1);
  STR(2, name);
  CHECK();
  if (!is_component(name)) return num(env, -EINVAL);
  if (linkat((int)fd, "", (int)dirfd, name, AT_EMPTY_PATH) != 0) return num(env, -errno);
  return num(env, 0);
}

static napi_value unlink_at(napi_env env, napi_callback_info info) {
  ARGS(3);
  int64_t dirfd = arg_i64(&A, 0);
  STR(1, name);
  int64_t flags = arg_i64(&A, 2);
  CHECK();
  if (!is_component(name)) return num(env, -EINVAL);
  if (unlinkat((int)dirfd, name, (int)(flags & AT_REMOVEDIR)) != 0) return num(env, -errno);
  return num(env, 0);
}

static napi_value rename_at(napi_env env, napi_callback_info info) {
  ARGS(4);
  int64_t od = arg_i64(&A, 0);
  STR(1, on);
  int64_t nd = arg_i64(&A, 2);
  STR(3, nn);
  CHECK();
  if (!is_component(on) || !is_component(nn)) return num(env, -EINVAL);
  if (renameat((int)od, on, (int)nd, nn) != 0) return num(env, -errno);
  return num(env, 0);
}

/* readlinkFd(fd) -> target | -errno, for an O_PATH fd of a symlink. */
static napi_value readlink_fd(napi_env env, napi_callback_info info) {
  ARGS(1);
  int64_t fd = arg_i64(&A, 0);
  CHECK();
  char buf[PATH_BUF];
  ssize_t n = readlinkat((int)fd, "", buf, sizeof buf);
  if (n < 0) return num(env, -errno);
  if ((size_t)n >= sizeof buf) return num(env, -ENAMETOOLONG);
  napi_value s;
  napi_create_string_utf8(env, buf, (size_t)n, &s);
  return s;
}

/* chmodFd(fd, mode), chownFd(fd, uid, gid) -> 0 | -errno, on O_PATH fds. */
static napi_value chmod_fd(napi_env env, napi_callback_info info) {
  ARGS(2);
  int64_t fd = arg_i64(&A, 0), mode = arg_i64(&A, 1);
  CHECK();
#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif
  if (syscall(SYS_fchmodat2, (int)fd, "", (mode_t)(mode & 07777), AT_EMPTY_PATH) != 0) return num(env, -errno);
  return num(env, 0);
}

static napi_value chown_fd(napi_env env, napi_callback_info info) {
  ARGS(3);
  int64_t fd = arg_i64(&A, 0), uid = arg_i64(&A, 1), gid = arg_i64(&A, 2);
  CHECK();
  if (fchownat((int)fd, "", (uid_t)uid, (gid_t)gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) return num(env, -errno);
  return num(env, 0);
}

/* utimesFd(fd, atimeSec, atimeNsec, mtimeSec, mtimeNsec) -> 0 | -errno; nsec may be
 * UTIME_NOW or UTIME_OMIT; O_PATH fds work. */
static napi_value utimes_fd(napi_env env, napi_callback_info info) {
  ARGS(5);
  int64_t fd = arg_i64(&A, 0);
  struct timespec ts[2] = {{arg_i64(&A, 1), arg_i64(&A, 2)}, {arg_i64(&A, 3), arg_i64(&A, 4)}};
  CHECK();
  if (utimensat((int)fd, "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) return num(env, -errno);
  return num(env, 0);
}

/* getdents(fd, buf) -> bytes | -errno: raw linux_dirent64 records. */
static napi_value getdents(napi_env env, napi_callback_info info) {
  ARGS(2);
  int64_t fd = arg_i64(&A, 0);
  void *buf = arg_buf(&A, 1, 256);
  CHECK();
  size_t len = 0;
  napi_typedarray_type ty; napi_value ab; size_t off;
  napi_get_typedarray_info(env, A.argv[1], &ty, &len, &buf, &ab, &off);
  long n = syscall(SYS_getdents64, (int)fd, buf, len);
  if (n < 0) return num(env, -errno);
  return num(env, (double)n);
}

/* seekDir(fd, offset) -> 0 | -errno: lseek to a getdents cookie. */
static napi_value seek_dir(napi_env env, napi_callback_info info) {
  ARGS(2);
  int64_t fd = arg_i64(&A, 0), off = arg_i64(&A, 1);
  CHECK();
  if (lseek((int)fd, (off_t)off, SEEK_SET) < 0) return num(env, -errno);
  return num(env, 0);
}

/* ---- fd passing ---- */

/* socketPair(type) -> [a, b] | -errno; type SOCK_STREAM (1) or SOCK_SEQPACKET (5), close-on-exec. */
static napi_value socket_pair(napi_env env, napi_callback_info info) {
  ARGS(1);
  int64_t type = arg_i64(&A, 0);
  CHECK();
  if (type != SOCK_STREAM && type != SOCK_SEQPACKET) return num(env, -EINVAL);
  int sv[2];
  if (socketpair(AF_UNIX, (int)type | SOCK_CLOEXEC, 0, sv) != 0) return num(env, -errno);
  napi_value arr;
  napi_create_array_with_length(env, 2, &arr);
  napi_set_element(env, arr, 0, num(env, sv[0]));
  napi_set_element(env, arr, 1, num(env, sv[1]));
  return arr;
}

/* sendFd(sock, fd, id) -> 0 | -errno: one message carrying id (u32) and fd. */
static napi_value send_fd(napi_env env, napi_callback_info info) {
  ARGS(3);
  int64_t sock = arg_i64(&A, 0), fd = arg_i64(&A, 1), id = arg_i64(&A, 2);
  CHECK();
  if (sock < 0 || fd < 0) return num(env, -EBADF);
  uint32_t idv = (uint32_t)id;
  struct iovec iov = {&idv, sizeof idv};
  union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
  memset(&u, 0, sizeof u);
  struct msghdr m = {0};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = u.buf;
  m.msg_controllen = sizeof u.buf;
  struct cmsghdr *c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  int f = (int)fd;
  memcpy(CMSG_DATA(c), &f, sizeof f);
  ssize_t r;
  do r = sendmsg((int)sock, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
  if (r < 0) return num(env, -errno);
  return num(env, 0);
}

/* recvFd(sock) -> [id, fd] | -errno (-EAGAIN when nothing is queued). fd is -1 when the
 * message carried none. Never blocks. */
static napi_value recv_fd(napi_env env, napi_callback_info info) {
  ARGS(1);
  int64_t sock = arg_i64(&A, 0);
  CHECK();
  uint32_t idv = 0;
  struct iovec iov = {&idv, sizeof idv};
  union { char buf[CMSG_SPACE(sizeof(int) * 4)]; struct cmsghdr align; } u;
  struct msghdr m = {0};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = u.buf;
  m.msg_controllen = sizeof u.buf;
  ssize_t r;
  do r = recvmsg((int)sock, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  while (r < 0 && errno == EINTR);
  if (r < 0) return num(env, -errno);
  if (r == 0) return num(env, -EPIPE);
  int fd = -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < k; i++) {
      int g;
      memcpy(&g, CMSG_DATA(c) + i * sizeof(int), sizeof g);
      /* Only the first fd is ours to keep; extras from a confused peer are closed. */
      if (fd < 0) fd = g;
      else close(g);
    }
  }
  if (r != sizeof idv) {
    if (fd >= 0) close(fd);
    return num(env, -EPROTO);
  }
  napi_value arr;
  napi_create_array_with_length(env, 2, &arr);
  napi_set_element(env, arr, 0, num(env, idv));
  napi_set_element(env, arr, 1, num(env, fd));
  return arr;
}

/* ---- extended attributes, on a real (not O_PATH) fd of the file ---- */

/* xattrGet(fd, name, buf) -> size | -errno; an empty buf asks only for the size. */
static napi_value xattr_get(napi_env env, napi_callback_info info) {
  ARGS(3);
  int64_t fd = arg_i64(&A, 0);
  STR(1, name);
  void *buf = arg_buf(&A, 2, 0);
  CHECK();
  size_t len = 0;
  napi_typedarray_type ty; napi_value ab; size_t off;
  if (napi_get_typedarray_info(env, A.argv[2], &ty, &len, &buf, &ab, &off) != napi_ok || ty != napi_uint8_array) return num(env, -EINVAL);
  ssize_t n = fgetxattr((int)fd, name, len == 0 ? NULL : buf, len);
  if (n < 0) return num(env, -errno);
  return num(env, (double)n);
}

/* xattrList(fd, buf) -> size | -errno: NUL-separated names; an empty buf asks the size. */
static napi_value xattr_list(napi_env env, napi_callback_info info) {
  ARGS(2);
  int64_t fd = arg_i64(&A, 0);
  void *buf = arg_buf(&A, 1, 0);
  CHECK();
  size_t len = 0;
  napi_typedarray_type ty; napi_value ab; size_t off;
  if (napi_get_typedarray_info(env, A.argv[1], &ty, &len, &buf, &ab, &off) != napi_ok || ty != napi_uint8_array) return num(env, -EINVAL);
  ssize_t n = flistxattr((int)fd, len == 0 ? NULL : buf, len);
  if (n < 0) return num(env, -errno);
  return num(env, (double)n);
}

/* xattrSet(fd, name, value, flags) -> 0 | -errno (flags: XATTR_CREATE / XATTR_REPLACE). */
static napi_value xattr_set(napi_env env, napi_callback_info info) {
  ARGS(4);
  int64_t fd = arg_i64(&A, 0);
  STR(1, name);
  void *buf = arg_buf(&A, 2, 0);
  int64_t flags = arg_i64(&A, 3);
  CHECK();
  size_t len = 0;
  napi_typedarray_type ty; napi_value ab; size_t off;
  if (napi_get_typedarray_info(env, A.argv[2], &ty, &len, &buf, &ab, &off) != napi_ok || ty != napi_uint8_array) return num(env, -EINVAL);
  if ((flags & ~(int64_t)(XATTR_CREATE | XATTR_REPLACE)) != 0) return num(env, -EINVAL);
  if (fsetxattr((int)fd, name, len == 0 ? "" : buf, len, (int)flags) != 0) return num(env, -errno);
  return num(env, 0);
}

/* xattrRemove(fd, name) -> 0 | -errno. */
static napi_value xattr_remove(napi_env env, napi_callback_info info) {
  ARGS(2);
  int64_t fd = arg_i64(&A, 0);
  STR(1, name);
  CHECK();
  if (fremovexattr((int)fd, name) != 0) return num(env, -errno);
  return num(env, 0);
}

void tsv_register_gofer(napi_env env, napi_value exports) {
  EXPORT("xattrGet", xattr_get);
  EXPORT("xattrList", xattr_list);
  EXPORT("xattrSet", xattr_set);
  EXPORT("xattrRemove", xattr_remove);
  EXPORT("goferSpawn", gofer_spawn);
  EXPORT("childWait", child_wait);
  EXPORT("goferPivot", gofer_pivot);
  EXPORT("dropCaps", drop_caps);
  EXPORT("openRoot", open_root);
  EXPORT("openComponent", open_component);
  EXPORT("statFd", stat_fd);
  EXPORT("statfsFd", statfs_fd);
  EXPORT("mkdirAt", mkdir_at);
  EXPORT("mknodAt", mknod_at);
  EXPORT("symlinkAt", symlink_at);
  EXPORT("linkAt", link_at);
  EXPORT("unlinkAt", unlink_at);
  EXPORT("renameAt", rename_at);
  EXPORT("readlinkFd", readlink_fd);
  EXPORT("chmodFd", chmod_fd);
  EXPORT("chownFd", chown_fd);
  EXPORT("utimesFd", utimes_fd);
  EXPORT("getdents", getdents);
  EXPORT("seekDir", seek_dir);
  EXPORT("socketPair", socket_pair);
  EXPORT("sendFd", send_fd);
  EXPORT("recvFd", recv_fd);
}
