// AF_INET SOCK_STREAM over loopback: bind/listen/connect/accept, non-blocking connect,
// data transfer, peeking, shutdown, resets, options, errors. Only 127.0.0.1 and ports the
// kernel picks are used.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static struct sockaddr_in lo(int port) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

/** A listening socket on 127.0.0.1 and a port the kernel chose; *addr gets its address. */
static int listener(struct sockaddr_in *addr) {
  int l = socket(AF_INET, SOCK_STREAM, 0);
  *addr = lo(0);
  bind(l, (struct sockaddr *)addr, sizeof *addr);
  socklen_t al = sizeof *addr;
  getsockname(l, (struct sockaddr *)addr, &al);
  listen(l, 16);
  return l;
}

static void test_basic(void) {
  int l = socket(AF_INET, SOCK_STREAM, 0);
  CHECK("socket", l >= 0, "socket");
  struct sockaddr_in a;
  socklen_t al = sizeof a;
  CHECK("sockname_unbound", getsockname(l, (struct sockaddr *)&a, &al) == 0 && al == sizeof a && a.sin_port == 0 && a.sin_addr.s_addr == 0, "al=%d", al);
  a = lo(0);
  CHECK("bind_ephemeral", bind(l, (struct sockaddr *)&a, sizeof a) == 0, "bind");
  al = sizeof a;
  getsockname(l, (struct sockaddr *)&a, &al);
  CHECK("bound_port_chosen", a.sin_port != 0 && a.sin_addr.s_addr == htonl(INADDR_LOOPBACK), "port=%d", ntohs(a.sin_port));
  int l2 = socket(AF_INET, SOCK_STREAM, 0);
  errno = 0;
  CHECK("bind_eaddrinuse", bind(l2, (struct sockaddr *)&a, sizeof a) == -1 && errno == EADDRINUSE, "inuse");
  close(l2);
  CHECK("listen", listen(l, 8) == 0, "listen");
  int v = 0;
  socklen_t vl = sizeof v;
  CHECK("so_acceptconn", getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl) == 0 && v == 1, "v=%d", v);
  int c = socket(AF_INET, SOCK_STREAM, 0);
  CHECK("connect", connect(c, (struct sockaddr *)&a, sizeof a) == 0, "connect");
  struct sockaddr_in pa, ca;
  socklen_t pl = sizeof pa;
  int s = accept(l, (struct sockaddr *)&pa, &pl);
  CHECK("accept", s >= 0 && pl == sizeof pa && pa.sin_family == AF_INET, "accept");
  socklen_t cl = sizeof ca;
  getsockname(c, (struct sockaddr *)&ca, &cl);
  CHECK("accept_addr_is_client", pa.sin_port == ca.sin_port && pa.sin_addr.s_addr == ca.sin_addr.s_addr, "addr");
  pl = sizeof pa;
  CHECK("client_peername", getpeername(c, (struct sockaddr *)&pa, &pl) == 0 && pa.sin_port == a.sin_port, "peer");
  CHECK("send", send(c, "hello", 5, 0) == 5, "send");
  char buf[64];
  struct pollfd p = {s, POLLIN, 0};
  poll(&p, 1, 5000);
  int avail = -1;
  CHECK("fionread", ioctl(s, FIONREAD, &avail) == 0 && avail == 5, "avail=%d", avail);
  CHECK("peek", recv(s, buf, sizeof buf, MSG_PEEK) == 5 && memcmp(buf, "hello", 5) == 0, "peek");
  CHECK("recv", recv(s, buf, sizeof buf, 0) == 5 && memcmp(buf, "hello", 5) == 0, "recv");
  errno = 0;
  CHECK("recv_dontwait_eagain", recv(s, buf, sizeof buf, MSG_DONTWAIT) == -1 && errno == EAGAIN, "eagain");
  send(c, "discard-me", 10, 0);
  poll(&p, 1, 5000);
  memset(buf, 0, sizeof buf);
  CHECK("recv_msg_trunc_discards", recv(s, buf, 7, MSG_TRUNC) == 7 && buf[0] == 0 && recv(s, buf, sizeof buf, 0) == 3 && memcmp(buf, "-me", 3) == 0, "buf=%s", buf);
  v = 1;
  CHECK("tcp_nodelay_set", setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v) == 0, "set");
  v = 0;
  vl = sizeof v;
  CHECK("tcp_nodelay_get", getsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, &vl) == 0 && v == 1, "v=%d", v);
  struct tcp_info ti;
  socklen_t tl = sizeof ti;
  CHECK("tcp_info_established", getsockopt(c, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0 && ti.tcpi_state == TCP_ESTABLISHED, "state=%d", ti.tcpi_state);
  vl = sizeof v;
  CHECK("so_type", getsockopt(c, SOL_SOCKET, SO_TYPE, &v, &vl) == 0 && v == SOCK_STREAM, "v=%d", v);
  vl = sizeof v;
  CHECK("so_protocol", getsockopt(c, SOL_SOCKET, SO_PROTOCOL, &v, &vl) == 0 && v == IPPROTO_TCP, "v=%d", v);
  vl = sizeof v;
  CHECK("ip_ttl_default", getsockopt(c, IPPROTO_IP, IP_TTL, &v, &vl) == 0 && v == 64, "v=%d", v);
  CHECK("shutdown_wr", shutdown(c, SHUT_WR) == 0, "shutdown");
  CHECK("eof_after_shutdown", recv(s, buf, sizeof buf, 0) == 0, "eof");
  CHECK("reverse_after_shutdown", send(s, "back", 4, 0) == 4 && recv(c, buf, 4, MSG_WAITALL) == 4, "reverse");
  errno = 0;
  CHECK("send_after_shutdown_epipe", send(c, "x", 1, MSG_NOSIGNAL) == -1 && errno == EPIPE, "epipe");
  close(s);
  CHECK("eof_after_close", recv(c, buf, sizeof buf, 0) == 0, "eof");
  close(c);
  close(l);
  // Nobody listens on a bound port any more: refused.
  c = socket(AF_INET, SOCK_STREAM, 0);
  errno = 0;
  CHECK("connect_closed_port_refused", connect(c, (struct sockaddr *)&a, sizeof a) == -1 && errno == ECONNREFUSED, "refused");
  close(c);
}

static void test_nonblocking(void) {
  struct sockaddr_in a;
  int l = listener(&a);
  fcntl(l, F_SETFL, O_NONBLOCK);
  errno = 0;
  CHECK("accept_nonblock_eagain", accept(l, NULL, NULL) == -1 && errno == EAGAIN, "eagain");
  int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  errno = 0;
  CHECK("connect_einprogress", connect(c, (struct sockaddr *)&a, sizeof a) == -1 && errno == EINPROGRESS, "einprogress");
  struct pollfd p = {c, POLLOUT, 0};
  CHECK("connect_completes_writable", poll(&p, 1, 5000) == 1 && (p.revents & POLLOUT), "revents=%#x", p.revents);
  int e = -1;
  socklen_t el = sizeof e;
  CHECK("connect_so_error_zero", getsockopt(c, SOL_SOCKET, SO_ERROR, &e, &el) == 0 && e == 0, "e=%d", e);
  struct pollfd lp = {l, POLLIN, 0};
  CHECK("listener_readable", poll(&lp, 1, 5000) == 1 && (lp.revents & POLLIN), "revents=%#x", lp.revents);
  int s = accept4(l, NULL, NULL, SOCK_NONBLOCK);
  CHECK("accept4_nonblock", s >= 0 && (fcntl(s, F_GETFL) & O_NONBLOCK), "accept4");
  // Fill the pipe without a reader: a non-blocking send ends in EAGAIN.
  static char chunk[65536];
  long total = 0;
  int n;
  while ((n = send(c, chunk, sizeof chunk, 0)) > 0 && total < (64L << 20)) total += n;
  CHECK("send_fills_eagain", n == -1 && errno == EAGAIN && total > 0, "total=%ld n=%d", total, n);
  p.events = POLLOUT;
  CHECK("full_not_writable", poll(&p, 1, 0) == 0, "revents=%#x", p.revents);
  // Drain everything; the writer becomes writable again.
  long got = 0;
  char rb[65536];
  struct pollfd sp = {s, POLLIN, 0};
  while (got < total && poll(&sp, 1, 5000) == 1) {
    n = recv(s, rb, sizeof rb, 0);
    if (n <= 0) break;
    got += n;
  }
  CHECK("drained_all", got == total, "got=%ld total=%ld", got, total);
  CHECK("writable_after_drain", poll(&p, 1, 5000) == 1 && (p.revents & POLLOUT), "revents=%#x", p.revents);
  close(s);
  close(c);
  // Refused non-blocking connect: SO_ERROR says ECONNREFUSED.
  struct sockaddr_in dead;
  int d = socket(AF_INET, SOCK_STREAM, 0);
  dead = lo(0);
  bind(d, (struct sockaddr *)&dead, sizeof dead);
  socklen_t dl = sizeof dead;
  getsockname(d, (struct sockaddr *)&dead, &dl);
  c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int r = connect(c, (struct sockaddr *)&dead, sizeof dead);
  CHECK("nonblock_refused_einprogress", r == -1 && errno == EINPROGRESS, "r=%d", r);
  p.fd = c;
  p.events = POLLOUT;
  poll(&p, 1, 5000);
  e = 0;
  el = sizeof e;
  CHECK("nonblock_refused_so_error", getsockopt(c, SOL_SOCKET, SO_ERROR, &e, &el) == 0 && e == ECONNREFUSED, "e=%d", e);
  close(c);
  close(d);
  close(l);
}

static void test_transfer(void) {
  struct sockaddr_in a;
  int l = listener(&a);
  pid_t pid = fork();
  if (pid == 0) {
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(c, (struct sockaddr *)&a, sizeof a) != 0) _exit(1);
    static char buf[100000];
    for (int k = 0; k < 40; k++) {
      for (int i = 0; i < (int)sizeof buf; i++) buf[i] = (char)(i * 31 + k);
      if (write(c, buf, sizeof buf) != (ssize_t)sizeof buf) _exit(2);
    }
    close(c);
    _exit(0);
  }
  int s = accept(l, NULL, NULL);
  static char rb[100000];
  long total = 0;
  int ok = 1;
  // MSG_WAITALL returns whole blocks.
  for (int k = 0; k < 40; k++) {
    int n = recv(s, rb, sizeof rb, MSG_WAITALL);
    if (n != (int)sizeof rb) {
      ok = 0;
      break;
    }
    for (int i = 0; i < n; i++)
      if (rb[i] != (char)(i * 31 + k)) ok = 0;
    total += n;
  }
  CHECK("transfer_4mb_waitall_intact", ok && total == 4000000, "total=%ld", total);
  CHECK("transfer_eof", recv(s, rb, sizeof rb, 0) == 0, "eof");
  int st;
  waitpid(pid, &st, 0);
  CHECK("transfer_client_exit", WIFEXITED(st) && WEXITSTATUS(st) == 0, "st=%#x", st);
  close(s);
  close(l);
}

static void test_reset(void) {
  struct sockaddr_in a;
  int l = listener(&a);
  int c = socket(AF_INET, SOCK_STREAM, 0);
  connect(c, (struct sockaddr *)&a, sizeof a);
  int s = accept(l, NULL, NULL);
  struct linger lg = {1, 0};
  CHECK("so_linger_set", setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0, "set");
  struct linger lg2;
  socklen_t ll = sizeof lg2;
  CHECK("so_linger_get", getsockopt(c, SOL_SOCKET, SO_LINGER, &lg2, &ll) == 0 && lg2.l_onoff == 1 && lg2.l_linger == 0, "get");
  close(c);
  char b[8];
  struct pollfd p = {s, POLLIN, 0};
  poll(&p, 1, 5000);
  errno = 0;
  CHECK("linger0_close_resets_peer", recv(s, b, sizeof b, 0) == -1 && errno == ECONNRESET, "reset");
  close(s);
  // Unread data at close also resets; the writer then sees EPIPE or ECONNRESET.
  c = socket(AF_INET, SOCK_STREAM, 0);
  connect(c, (struct sockaddr *)&a, sizeof a);
  s = accept(l, NULL, NULL);
  send(c, "unread", 6, 0);
  p.fd = s;
  poll(&p, 1, 5000);
  close(s);
  int err = 0;
  for (int i = 0; i < 10 && err == 0; i++) {
    if (send(c, "x", 1, MSG_NOSIGNAL) < 0) err = errno;
    else usleep(10000);
  }
  CHECK("send_to_reset_fails", err == EPIPE || err == ECONNRESET, "err=%d", err);
  close(c);
  close(l);
}

static void test_errors(void) {
  int c = socket(AF_INET, SOCK_STREAM, 0);
  char b[4];
  errno = 0;
  CHECK("send_unconnected_epipe", send(c, "x", 1, MSG_NOSIGNAL) == -1 && errno == EPIPE, "epipe");
  errno = 0;
  CHECK("recv_unconnected_enotconn", recv(c, b, 1, 0) == -1 && errno == ENOTCONN, "enotconn");
  struct sockaddr_in a;
  socklen_t al = sizeof a;
  errno = 0;
  CHECK("peername_unconnected_enotconn", getpeername(c, (struct sockaddr *)&a, &al) == -1 && errno == ENOTCONN, "enotconn");
  a = lo(0);
  errno = 0;
  CHECK("bind_short_einval", bind(c, (struct sockaddr *)&a, 8) == -1 && errno == EINVAL, "einval");
  a.sin_family = AF_INET6;
  errno = 0;
  CHECK("bind_wrong_family", bind(c, (struct sockaddr *)&a, sizeof a) == -1 && errno == EAFNOSUPPORT, "eafnosupport");
  errno = 0;
  CHECK("socketpair_inet_eopnotsupp", socketpair(AF_INET, SOCK_STREAM, 0, (int[2]){0, 0}) == -1 && errno == EOPNOTSUPP, "eopnotsupp");
  errno = 0;
  CHECK("inet_bad_protocol", socket(AF_INET, SOCK_STREAM, IPPROTO_UDP) == -1 && errno == EPROTONOSUPPORT, "eprotonosupport");
  struct pollfd p = {c, POLLIN | POLLOUT, 0};
  CHECK("fresh_socket_poll", poll(&p, 1, 0) == 1 && p.revents == (POLLOUT | POLLHUP), "revents=%#x", p.revents);
  int v = 1;
  CHECK("so_reuseaddr_set", setsockopt(c, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v) == 0, "set");
  struct ucred nc;
  socklen_t ncl = sizeof nc;
  CHECK("so_peercred_tcp", getsockopt(c, SOL_SOCKET, SO_PEERCRED, &nc, &ncl) == 0 && nc.pid == 0 && nc.uid == (uid_t)-1, "pid=%d uid=%u", nc.pid, nc.uid);
  v = 0;
  socklen_t vl = sizeof v;
  CHECK("so_reuseaddr_get", getsockopt(c, SOL_SOCKET, SO_REUSEADDR, &v, &vl) == 0 && v == 1, "v=%d", v);
  v = 1;
  CHECK("so_keepalive_set", setsockopt(c, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof v) == 0, "set");
  v = 30;
  CHECK("tcp_keepidle_set", setsockopt(c, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof v) == 0, "set");
  v = 0;
  vl = sizeof v;
  CHECK("tcp_keepidle_get", getsockopt(c, IPPROTO_TCP, TCP_KEEPIDLE, &v, &vl) == 0 && v == 30, "v=%d", v);
  v = 0;
  errno = 0;
  CHECK("tcp_keepidle_zero_einval", setsockopt(c, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof v) == -1 && errno == EINVAL, "einval");
  v = 32;
  CHECK("ip_ttl_set", setsockopt(c, IPPROTO_IP, IP_TTL, &v, sizeof v) == 0, "set");
  vl = sizeof v;
  CHECK("ip_ttl_get", getsockopt(c, IPPROTO_IP, IP_TTL, &v, &vl) == 0 && v == 32, "v=%d", v);
  close(c);
}

int main(void) {
  alarm(60);
  setvbuf(stdout, NULL, _IONBF, 0);
  test_basic();
  test_nonblocking();
  test_transfer();
  test_reset();
  test_errors();
  return 0;
}
