/*
 * --network=host ("hostinet"): AF_INET/AF_INET6 sockets of the app backed by host sockets
 * that the Sentry creates and drives. Every host socket is non-blocking (the Sentry parks
 * the task on a wait queue instead), and readiness comes from a libuv poll handle on
 * Node's own loop, so no host call here can stall the Sentry. The Sentry has already
 * validated and copied the app's arguments; each call checks its own and returns -errno.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <uv.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>
#include <unistd.h>

#include "napi_args.h"

/* A sockaddr the Sentry hands us is at most sockaddr_storage. */
#define ADDR_MAX ((socklen_t)sizeof(struct sockaddr_storage))
#define OPT_MAX 512
#define WATCH_MAX 65536

/* One poll handle per host socket, keyed by its fd; cb gets the uv events that fired. */
typedef struct {
  uv_poll_t h;
  napi_env env;
  napi_ref cb;
  int fd;
  int closing;
} watch_t;

static watch_t *watches[WATCH_MAX];
static napi_async_context async_ctx;
static int async_ready;

static int fd_ok(int64_t fd) { return fd >= 0 && fd < WATCH_MAX && watches[fd] != NULL && !watches[fd]->closing; }

/* hinSocket(domain, type, protocol) -> fd | -errno: TCP/UDP/ping over IPv4/IPv6 only. */
static napi_value hin_socket(napi_env env, napi_callback_info info) {
  ARGS(3);
  int64_t domain = arg_i64(&A, 0), type = arg_i64(&A, 1), proto = arg_i64(&A, 2);
  CHECK();
  if (domain != AF_INET && domain != AF_INET6) return num(env, -EAFNOSUPPORT);
  if (type != SOCK_STREAM && type != SOCK_DGRAM) return num(env, -ESOCKTNOSUPPORT);
  int fd = socket((int)domain, (int)type | SOCK_NONBLOCK | SOCK_CLOEXEC, (int)proto);
  if (fd < 0) return num(env, -errno);
  if (fd >= WATCH_MAX) {
    close(fd);
    return num(env, -EMFILE);
  }
  return num(env, fd);
}

static void watch_closed(uv_handle_t *h) {
  free(h);
}

/* hinClose(fd): stops its poll handle and closes it. */
static napi_value hin_close(napi_env env, napi_callback_info info) {
  ARGS(1);
  int64_t fd = arg_i64(&A, 0);
  CHECK();
  if (fd < 0 || fd >= WATCH_MAX) return num(env, -EBADF);
  watch_t *w = watches[fd];
  if (w != NULL) {
    watches[fd] = NULL;
    w->closing = 1;
    napi_delete_reference(env, w->cb);
    /* uv_close takes the fd out of the loop's epoll set before the fd is closed below. */
    uv_close((uv_handle_t *)&w->h, watch_closed);
  }
  return num(env, close((int)fd) == 0 ? 0 : -errno);
}

static void on_poll(uv_poll_t *h, int status, int events) {
  watch_t *w = (watch_t *)h;
  if (w->closing) return;
  /* One-shot: the Sentry re-arms before it waits again (level-triggered would spin). */
  uv_poll_stop(h);
  napi_env env = w->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv, arg, result;
  if (napi_get_reference_value(env, w->cb, &cb) == napi_ok && cb != NULL) {
    napi_get_global(env, &recv); /* make_callback needs an object receiver */
    napi_create_int32(env, status < 0 ? -1 : events, &arg);
    /* make_callback runs the microtasks (woken waiters' promises) afterwards. */
    if (napi_make_callback(env, async_ctx, recv, cb, 1, &arg, &result) == napi_pending_exception) {
      /* A throw in the Sentry's handler: report it as the uncaught exception it is. */
      napi_value exc;
      if (napi_get_and_clear_last_exception(env, &exc) == napi_ok) napi_fatal_exception(env, exc);
    }
  }
  napi_close_handle_scope(env, scope);
}

/* hinWatch(fd, cb) -> 0 | -errno: cb(uvEvents) is called once per hinArm that fires. */
static napi_value hin_watch(napi_env env, napi_callback_info info) {
  ARGS(2);
  int64_t fd = arg_i64(&A, 0);
  CHECK();
  napi_valuetype t;
  napi_typeof(env, A.argv[1], &t);
  if (t != napi_function || fd < 0 || fd >= WATCH_MAX) return num(env, -EINVAL);
  if (watches[fd] != NULL) return num(env, -EEXIST);
  uv_loop_t *loop = NULL;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == NULL) return num(env, -EIO);
  if (!async_ready) {
    napi_value name;
    napi_create_string_utf8(env, "hostinet", NAPI_AUTO_LENGTH, &name);
    if (napi_async_init(env, NULL, name, &async_ctx) != napi_ok) return num(env, -EIO);
    async_ready = 1;
  }
  watch_t *w = calloc(1, sizeof *w);
  if (w == NULL) return num(env, -ENOMEM);
  int r = uv_poll_init_socket(loop, &w->h, (int)fd);
  if (r != 0) {
    free(w);
    return num(env, r);
  }
  w->env = env;
  w->fd = (int)fd;
  napi_create_reference(env, A.argv[1], 1, &w->cb);
  watches[fd] = w;
  return num(env, 0);
}

/* hinArm(fd, uvEvents) -> 0 | -errno: wait for UV_READABLE/WRITABLE/DISCONNECT (0 stops). */
static napi_value hin_arm(napi_env env, napi_callback_info info) {
  ARGS(2);
  int64_t fd = arg_i64(&A, 0), ev = arg_i64(&A, 1);
  CHECK();
  if (!fd_ok(fd)) return num(env, -EBADF);
  if (ev & ~(int64_t)(UV_READABLE | UV_WRITABLE | UV_DISCONNECT | UV_PRIORITIZED)) return num(env, -EINVAL);
  int r = ev == 0 ? uv_poll_stop(&watches[fd]->h) : uv_poll_start(&watches[fd]->h, (int)ev, on_poll);
  return num(env, r);
}

/* hinPoll(fd) -> revents | -errno: the socket's readiness now (poll with no timeout). */
static napi_value hin_poll(napi_env env, napi_callback_info info) {
  ARGS(1);
  int64_t fd = arg_i64(&A, 0);
  CHECK();
  if (!fd_ok(fd)) return num(env, -EBADF);
  struct pollfd p = {.fd = (int)fd, .events = POLLIN | POLLPRI | POLLOUT | POLLRDHUP | POLLRDNORM | POLLWRNORM};
  int r = poll(&p, 1, 0);
  if (r < 0) return num(env, -errno);
  return num(env, r == 0 ? 0 : p.revents);
}

/* hinBind/hinConnect(fd, sockaddr bytes) -> 0 | -errno. */
static napi_value addr_call(napi_env env, napi_callback_info info, int connect_call) {
  ARGS(2);
  int64_t fd = arg_i64(&A, 0);
  CHECK();
  size_t len = 0;
  void *addr = NULL;
  if (napi_get_typedarray_info(env, A.argv[1], NULL, &len, &addr, NULL, NULL) != napi_ok) return num(env, -EINVAL);
  if (!fd_ok(fd)) return num(env, -EBADF);
  if (len > ADDR_MAX) return num(env, -EINVAL);
  int r = connect_call ? connect((int)fd, addr, (socklen_t)len) : bind((int)fd, addr, (socklen_t)len);
  return num(env, r == 0 ? 0 : -errno);
}
static napi_value hin_bind(napi_env env, napi_callback_info info) { return addr_call(env, info, 0); }
static napi_value hin_connect(napi_env env, napi_callback_info info) { return addr_call(env, info, 1); }

/* hinListen(fd, backlog) -> 0 | -errno. */
static napi_value hin_listen(napi_env env, napi_callback_info info) {
  ARGS(2);
  int64_t fd = arg_i64(&A, 0), backlog = arg_i64(&A, 1);
  CHECK();
  if (!fd_ok(fd)) return num(env, -EBADF);
  if (backlog > 65535) backlog = 65535;
  if (backlog < 0) backlog = 0;
  return num(env, listen((int)fd, (int)backlog) == 0 ? 0 : -errno);
}

/* hinAccept(fd, addrOut[128], lenOut Int32Array[1]) -> new fd (non-blocking) | -errno. */
static napi_value hin_accept(napi_env env, napi_callback_info info) {
  ARGS(3);
  int64_t fd = arg_i64(&A, 0);
  void *addr = arg_buf(&A, 1, ADDR_MAX);
  int32_t *len = arg_buf(&A, 2, 4);
  CHECK();
  if (!fd_ok(fd)) return num(env, -EBADF);
  socklen_t l = ADDR_MAX;
  int nfd = accept4((int)fd, addr, &l, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (nfd < 0) return num(env, -errno);
  if (nfd >= WATCH_MAX) {
    close(nfd);
    return num(env, -EMFILE);
  }
  *len = (int32_t)(l > ADDR_MAX ? ADDR_MAX : l);
  return num(env, nfd);
}

/* hinSend(fd, data, addr (empty: none), flags) -> bytes | -errno; never blocks, never SIGPIPE. */
static napi_value hin_send(napi_env env, napi_callback_info info) {
  ARGS(4);
  int64_t fd = arg_i64(&A, 0), flags = arg_i64(&A, 3);
  CHECK();
  size_t n = 0, alen = 0;
  void *data = NULL, *addr = NULL;
  if (napi_get_typedarray_info(env, A.argv[1], NULL, &n, &data, NULL, NULL) != napi_ok ||
      napi_get_typedarray_info(env, A.argv[2], NULL, &alen, &addr, NULL, NULL) != napi_ok)
    return num(env, -EINVAL);
  if (!fd_ok(fd)) return num(env, -EBADF);
  if (alen > ADDR_MAX) return num(env, -EINVAL);
  ssize_t r = sendto((int)fd, data, n, (int)flags | MSG_DONTWAIT | MSG_NOSIGNAL, alen > 0 ? addr : NULL, (socklen_t)alen);
  return num(env, r < 0 ? -errno : (double)r);
}

/* hinRecv(fd, buf, flags, addrOut[128], info Int32Array[2] = addrlen, msg_flags) -> bytes | -errno. */
static napi_value hin_recv(napi_env env, napi_callback_info info) {
  ARGS(5);
  int64_t fd = arg_i64(&A, 0), flags = arg_i64(&A, 2);
  void *addr = arg_buf(&A, 3, ADDR_MAX);
  int32_t *out = arg_buf(&A, 4, 8);
  CHECK();
  size_t n = 0;
  void *buf = NULL;
  if (napi_get_typedarray_info(env, A.argv[1], NULL, &n, &buf, NULL, NULL) != napi_ok) return num(env, -EINVAL);
  if (!fd_ok(fd)) return num(env, -EBADF);
  struct iovec iov = {.iov_base = buf, .iov_len = n};
  struct msghdr m = {.msg_name = addr, .msg_namelen = ADDR_MAX, .msg_iov = &iov, .msg_iovlen = 1};
  ssize_t r = recvmsg((int)fd, &m, (int)flags | MSG_DONTWAIT);
  if (r < 0) return num(env, -errno);
  out[0] = (int32_t)(m.msg_namelen > ADDR_MAX ? ADDR_MAX : m.msg_namelen);
  out[1] = m.msg_flags;
  return num(env, (double)r);
}

/* hinSetsockopt(fd, level, name, value bytes) -> 0 | -errno (the caller allowlists). */
static napi_value hin_setsockopt(napi_env env, napi_callback_info info) {
  ARGS(4);
  int64_t fd = arg_i64(&A, 0), level = arg_i64(&A, 1), name = arg_i64(&A, 2);
  CHECK();
  size_t n = 0;
  void *val = NULL;
  if (napi_get_typedarray_info(env, A.argv[3], NULL, &n, &val, NULL, NULL) != napi_ok) return num(env, -EINVAL);
  if (!fd_ok(fd)) return num(env, -EBADF);
  if (n > OPT_MAX) return num(env, -EINVAL);
  return num(env, setsockopt((int)fd, (int)level, (int)name, val, (socklen_t)n) == 0 ? 0 : -errno);
}

/* hinGetsockopt(fd, level, name, out) -> length | -errno. */
static napi_value hin_getsockopt(napi_env env, napi_callback_info info) {
  ARGS(4);
  int64_t fd = arg_i64(&A, 0), level = arg_i64(&A, 1), name = arg_i64(&A, 2);
  CHECK();
  size_t n = 0;
  void *out = NULL;
  if (napi_get_typedarray_info(env, A.argv[3], NULL, &n, &out, NULL, NULL) != napi_ok) return num(env, -EINVAL);
  if (!fd_ok(fd)) return num(env, -EBADF);
  socklen_t l = (socklen_t)(n > OPT_MAX ? OPT_MAX : n);
  if (getsockopt((int)fd, (int)level, (int)name, out, &l) != 0) return num(env, -errno);
  return num(env, l);
}

/* hinShutdown(fd, how) -> 0 | -errno. */
static napi_value hin_shutdown(napi_env env, napi_callback_info info) {
  ARGS(2);
  int64_t fd = arg_i64(&A, 0), how = arg_i64(&A, 1);
  CHECK();
  if (!fd_ok(fd)) return num(env, -EBADF);
  return num(env, shutdown((int)fd, (int)how) == 0 ? 0 : -errno);
}

/* hinName(fd, peer, out[128]) -> address length | -errno: getsockname or getpeername. */
static napi_value hin_name(napi_env env, napi_callback_info info) {
  ARGS(3);
  int64_t fd = arg_i64(&A, 0), peer = arg_i64(&A, 1);
  void *out = arg_buf(&A, 2, ADDR_MAX);
  CHECK();
  if (!fd_ok(fd)) return num(env, -EBADF);
  socklen_t l = ADDR_MAX;
  int r = peer ? getpeername((int)fd, out, &l) : getsockname((int)fd, out, &l);
  if (r != 0) return num(env, -errno);
  return num(env, l > ADDR_MAX ? ADDR_MAX : l);
}

/* hinIoctlInt(fd, cmd) -> value | -errno: the int-valued socket queries (FIONREAD, SIOCOUTQ, SIOCATMARK). */
static napi_value hin_ioctl_int(napi_env env, napi_callback_info info) {
  ARGS(2);
  int64_t fd = arg_i64(&A, 0), cmd = arg_i64(&A, 1);
  CHECK();
  if (!fd_ok(fd)) return num(env, -EBADF);
  if (cmd != FIONREAD && cmd != SIOCOUTQ && cmd != SIOCATMARK && cmd != SIOCOUTQNSD) return num(env, -EINVAL);
  int v = 0;
  if (ioctl((int)fd, (unsigned long)cmd, &v) != 0) return num(env, -errno);
  return num(env, v);
}

/* hinIfreq(fd, cmd, ifreq[40]) -> 0 | -errno: the read-only netdevice queries, in place. */
static napi_value hin_ifreq(napi_env env, napi_callback_info info) {
  ARGS(3);
  int64_t fd = arg_i64(&A, 0), cmd = arg_i64(&A, 1);
  struct ifreq *req = arg_buf(&A, 2, sizeof(struct ifreq));
  CHECK();
  if (!fd_ok(fd)) return num(env, -EBADF);
  switch (cmd) {
    case SIOCGIFNAME: case SIOCGIFINDEX: case SIOCGIFFLAGS: case SIOCGIFADDR: case SIOCGIFDSTADDR:
    case SIOCGIFBRDADDR: case SIOCGIFNETMASK: case SIOCGIFMTU: case SIOCGIFHWADDR: case SIOCGIFMETRIC:
    case SIOCGIFTXQLEN: break;
    default: return num(env, -EINVAL);
  }
  struct ifreq r;
  memcpy(&r, req, sizeof r);
  r.ifr_name[IFNAMSIZ - 1] = 0;
  if (ioctl((int)fd, (unsigned long)cmd, &r) != 0) return num(env, -errno);
  memcpy(req, &r, sizeof r);
  return num(env, 0);
}

/* hinIfconf(fd, buf) -> bytes filled | -errno: SIOCGIFCONF into buf (empty buf: the size needed). */
static napi_value hin_ifconf(napi_env env, napi_callback_info info) {
  ARGS(2);
  int64_t fd = arg_i64(&A, 0);
  CHECK();
  size_t n = 0;
  void *buf = NULL;
  if (napi_get_typedarray_info(env, A.argv[1], NULL, &n, &buf, NULL, NULL) != napi_ok) return num(env, -EINVAL);
  if (!fd_ok(fd)) return num(env, -EBADF);
  if (n > (1 << 20)) return num(env, -EINVAL);
  struct ifconf c = {.ifc_len = (int)n, .ifc_buf = n > 0 ? buf : NULL};
  if (ioctl((int)fd, SIOCGIFCONF, &c) != 0) return num(env, -errno);
  return num(env, c.ifc_len);
}

void tsv_register_hostinet(napi_env env, napi_value exports) {
  EXPORT("hinSocket", hin_socket);
  EXPORT("hinClose", hin_close);
  EXPORT("hinWatch", hin_watch);
  EXPORT("hinArm", hin_arm);
  EXPORT("hinPoll", hin_poll);
  EXPORT("hinBind", hin_bind);
  EXPORT("hinConnect", hin_connect);
  EXPORT("hinListen", hin_listen);
  EXPORT("hinAccept", hin_accept);
  EXPORT("hinSend", hin_send);
  EXPORT("hinRecv", hin_recv);
  EXPORT("hinSetsockopt", hin_setsockopt);
  EXPORT("hinGetsockopt", hin_getsockopt);
  EXPORT("hinShutdown", hin_shutdown);
  EXPORT("hinName", hin_name);
  EXPORT("hinIoctlInt", hin_ioctl_int);
  EXPORT("hinIfreq", hin_ifreq);
  EXPORT("hinIfconf", hin_ifconf);
}
