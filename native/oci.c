/*
 * What the OCI runtime needs and Node cannot do: file locks (flock), passing fds over unix
 * sockets (SCM_RIGHTS, as runc's --console-socket and our exec use), and pseudo-terminals.
 * Every call checks its arguments and returns -errno; fds are created close-on-exec.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>
#include "napi_args.h"

#define MAX_PASSED_FDS 16

/* ociFlock(fd, op): flock(2) with LOCK_SH/LOCK_EX/LOCK_UN (| LOCK_NB). */
static napi_value oci_flock(napi_env env, napi_callback_info info) {
  ARGS(2);
  int fd = (int)arg_i64(&A, 0);
  int op = (int)arg_i64(&A, 1);
  CHECK();
  if ((op & ~(LOCK_SH | LOCK_EX | LOCK_UN | LOCK_NB)) != 0) return num(env, -EINVAL);
  int r;
  do r = flock(fd, op); while (r != 0 && errno == EINTR);
  return num(env, r == 0 ? 0 : -errno);
}

/* ociUnixConnect(path): a connected, blocking, close-on-exec unix stream socket. */
static napi_value oci_unix_connect(napi_env env, napi_callback_info info) {
  ARGS(1);
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  size_t len = 0;
  if (napi_get_value_string_utf8(env, A.argv[0], sa.sun_path, sizeof sa.sun_path, &len) != napi_ok) return num(env, -EINVAL);
  if (len == 0 || len >= sizeof sa.sun_path - 1) return num(env, -ENAMETOOLONG);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return num(env, -errno);
  int r;
  do r = connect(fd, (struct sockaddr *)&sa, sizeof sa); while (r != 0 && errno == EINTR);
  if (r != 0) {
    int e = errno;
    close(fd);
    return num(env, -e);
  }
  return num(env, fd);
}

/* ociSendFds(sock, fds: Int32Array, n): sends one byte carrying n fds (SCM_RIGHTS). */
static napi_value oci_send_fds(napi_env env, napi_callback_info info) {
  ARGS(3);
  int sock = (int)arg_i64(&A, 0);
  int64_t n = arg_i64(&A, 2);
  CHECK();
  if (n < 1 || n > MAX_PASSED_FDS) return num(env, -EINVAL);
  int32_t *fds = arg_buf(&A, 1, (size_t)n * sizeof(int32_t));
  CHECK();
  char byte = 'F';
  struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
  union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int) * MAX_PASSED_FDS)]; } u;
  memset(&u, 0, sizeof u);
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                        .msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n) };
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n);
  memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)n);
  ssize_t r;
  do r = sendmsg(sock, &msg, MSG_NOSIGNAL); while (r < 0 && errno == EINTR);
  return num(env, r < 0 ? -errno : (double)r);
}

/*
 * ociRecvFds(sock, out: Int32Array): receives one byte and the fds it carries (close-on-exec).
 * Returns how many fds arrived (0 if none), or -errno (-EAGAIN on a non-blocking socket).
 */
static napi_value oci_recv_fds(napi_env env, napi_callback_info info) {
  ARGS(2);
  int sock = (int)arg_i64(&A, 0);
  CHECK();
  int32_t *out = arg_buf(&A, 1, sizeof(int32_t) * MAX_PASSED_FDS);
  CHECK();
  char byte;
  struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
  union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int) * MAX_PASSED_FDS)]; } u;
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
  ssize_t r;
  do r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC); while (r < 0 && errno == EINTR);
  if (r < 0) return num(env, -errno);
  if (r == 0) return num(env, -ECONNRESET);
  int n = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    int *p = (int *)CMSG_DATA(c);
    for (int i = 0; i < k; i++) {
      if (n < MAX_PASSED_FDS) out[n++] = p[i];
      else close(p[i]);
    }
  }
  if (msg.msg_flags & MSG_CTRUNC) {
    for (int i = 0; i < n; i++) close(out[i]);
    return num(env, -EMSGSIZE);
  }
  return num(env, n);
}

/*
 * ociOpenPty(out: Int32Array[2], rows, cols[, raw]): a new pty pair; out = [master, slave].
 * raw: the slave starts in raw mode (cfmakeraw), for a relay whose own pty does the line
 * discipline; set before the master leaves us, so no byte is ever cooked.
 */
static napi_value oci_open_pty(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t *out = arg_buf(&A, 0, sizeof(int32_t) * 2);
  int64_t rows = arg_i64(&A, 1), cols = arg_i64(&A, 2);
  int64_t raw = A.argc > 3 ? arg_i64(&A, 3) : 0;
  CHECK();
  if (rows < 0 || rows > 65535 || cols < 0 || cols > 65535) return num(env, -EINVAL);
  int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (m < 0) return num(env, -errno);
  char name[128];
  if (grantpt(m) != 0 || unlockpt(m) != 0 || ptsname_r(m, name, sizeof name) != 0) {
    int e = errno;
    close(m);
    return num(env, -e);
  }
  int s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (s < 0) {
    int e = errno;
    close(m);
    return num(env, -e);
  }
  if (raw) {
    struct termios t;
    if (tcgetattr(s, &t) == 0) {
      cfmakeraw(&t);
      tcsetattr(s, TCSANOW, &t);
    }
  }
  if (rows > 0 && cols > 0) {
    struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
    ioctl(m, TIOCSWINSZ, &ws);
  }
  out[0] = m;
  out[1] = s;
  return num(env, 0);
}

/* ociSetCtty(fd): makes the tty the caller's controlling terminal (the caller leads its session). */
static napi_value oci_set_ctty(napi_env env, napi_callback_info info) {
  ARGS(1);
  int fd = (int)arg_i64(&A, 0);
  CHECK();
  return num(env, ioctl(fd, TIOCSCTTY, 0) == 0 ? 0 : -errno);
}

void tsv_register_oci(napi_env env, napi_value exports) {
  EXPORT("ociSetCtty", oci_set_ctty);
  EXPORT("ociFlock", oci_flock);
  EXPORT("ociUnixConnect", oci_unix_connect);
  EXPORT("ociSendFds", oci_send_fds);
  EXPORT("ociRecvFds", oci_recv_fds);
  EXPORT("ociOpenPty", oci_open_pty);
}
