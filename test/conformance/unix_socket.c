// AF_UNIX sockets: socketpair, abstract names, listen/accept/connect, shutdown, peeking,
// truncation, SCM_RIGHTS, SCM_CREDENTIALS, options, ioctls, readiness, errors.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

/** An abstract address unique to this run: "\0tsv-<pid>-<tag>". */
static socklen_t abstract_addr(struct sockaddr_un *a, const char *tag) {
  memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  int n = snprintf(a->sun_path + 1, sizeof a->sun_path - 1, "tsv-%d-%s", getpid(), tag);
  return offsetof(struct sockaddr_un, sun_path) + 1 + n;
}

static void test_socketpair_stream(void) {
  int sv[2];
  CHECK("stream_socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
  CHECK("stream_write", write(sv[0], "hello", 5) == 5, "write");
  char buf[16] = {0};
  CHECK("stream_peek", recv(sv[1], buf, sizeof buf, MSG_PEEK) == 5 && memcmp(buf, "hello", 5) == 0, "peek");
  int avail = -1;
  CHECK("stream_fionread", ioctl(sv[1], FIONREAD, &avail) == 0 && avail == 5, "avail=%d", avail);
  memset(buf, 0, sizeof buf);
  CHECK("stream_read_after_peek", read(sv[1], buf, 3) == 3 && memcmp(buf, "hel", 3) == 0, "read");
  CHECK("stream_read_rest", read(sv[1], buf, sizeof buf) == 2 && memcmp(buf, "lo", 2) == 0, "rest");
  errno = 0;
  CHECK("stream_dontwait_eagain", recv(sv[1], buf, sizeof buf, MSG_DONTWAIT) == -1 && errno == EAGAIN, "dontwait");
  // Two writes coalesce into one stream read.
  write(sv[0], "ab", 2);
  write(sv[0], "cd", 2);
  CHECK("stream_coalesce", read(sv[1], buf, sizeof buf) == 4 && memcmp(buf, "abcd", 4) == 0, "coalesce");
  struct sockaddr_un a;
  socklen_t al = sizeof a;
  CHECK("stream_pair_sockname_unnamed", getsockname(sv[0], (struct sockaddr *)&a, &al) == 0 && al == sizeof(sa_family_t) && a.sun_family == AF_UNIX, "al=%d", al);
  al = sizeof a;
  CHECK("stream_pair_peername_unnamed", getpeername(sv[0], (struct sockaddr *)&a, &al) == 0 && al == sizeof(sa_family_t), "al=%d", al);
  CHECK("stream_shutdown_wr", shutdown(sv[0], SHUT_WR) == 0, "shutdown");
  CHECK("stream_eof_after_shutdown", read(sv[1], buf, sizeof buf) == 0, "eof");
  errno = 0;
  CHECK("stream_send_after_shutdown_epipe", send(sv[0], "x", 1, MSG_NOSIGNAL) == -1 && errno == EPIPE, "epipe");
  CHECK("stream_reverse_still_open", write(sv[1], "z", 1) == 1 && read(sv[0], buf, 1) == 1 && buf[0] == 'z', "reverse");
  struct pollfd p = {sv[1], POLLIN | POLLOUT | POLLRDHUP, 0};
  CHECK("stream_poll_rdhup", poll(&p, 1, 0) == 1 && (p.revents & POLLRDHUP) && (p.revents & POLLIN), "revents=%#x", p.revents);
  close(sv[1]);
  errno = 0;
  CHECK("stream_write_closed_peer_epipe", send(sv[0], "x", 1, MSG_NOSIGNAL) == -1 && errno == EPIPE, "epipe");
  p.fd = sv[0];
  p.events = POLLIN | POLLOUT;
  CHECK("stream_poll_hup_after_close", poll(&p, 1, 0) == 1 && (p.revents & POLLHUP), "revents=%#x", p.revents);
  close(sv[0]);
}

static void test_sigpipe(void) {
  int sv[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  close(sv[1]);
  pid_t pid = fork();
  if (pid == 0) {
    write(sv[0], "x", 1);
    _exit(0);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  CHECK("stream_write_raises_sigpipe", WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE, "status=%#x", st);
  close(sv[0]);
}

static void test_dgram_pair(void) {
  int sv[2];
  CHECK("dgram_socketpair", socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0, "socketpair");
  send(sv[0], "one", 3, 0);
  send(sv[0], "second", 6, 0);
  char buf[16];
  int avail = -1;
  CHECK("dgram_fionread_next", ioctl(sv[1], FIONREAD, &avail) == 0 && avail == 3, "avail=%d", avail);
  CHECK("dgram_boundaries", recv(sv[1], buf, sizeof buf, 0) == 3, "first");
  CHECK("dgram_trunc_returns_real_len", recv(sv[1], buf, 2, MSG_TRUNC) == 6, "trunc");
  send(sv[0], "abcdef", 6, 0);
  struct iovec iov = {buf, 2};
  struct msghdr m = {0};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  CHECK("dgram_recvmsg_truncated", recvmsg(sv[1], &m, 0) == 2 && (m.msg_flags & MSG_TRUNC), "flags=%#x", m.msg_flags);
  CHECK("dgram_zero_length", send(sv[0], "", 0, 0) == 0 && recv(sv[1], buf, sizeof buf, 0) == 0, "zero");
  int type = 0;
  socklen_t tl = sizeof type;
  CHECK("dgram_so_type", getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_DGRAM && tl == 4, "type=%d", type);
  close(sv[0]);
  close(sv[1]);
}

static void test_seqpacket_pair(void) {
  int sv[2];
  CHECK("seqpacket_socketpair", socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0, "socketpair");
  send(sv[0], "abc", 3, 0);
  send(sv[0], "defgh", 5, 0);
  char buf[16];
  CHECK("seqpacket_boundary", recv(sv[1], buf, sizeof buf, 0) == 3, "first");
  CHECK("seqpacket_truncate", recv(sv[1], buf, 2, 0) == 2, "second");
  errno = 0;
  CHECK("seqpacket_rest_discarded", recv(sv[1], buf, sizeof buf, MSG_DONTWAIT) == -1 && errno == EAGAIN, "discard");
  close(sv[0]);
  CHECK("seqpacket_eof", recv(sv[1], buf, sizeof buf, 0) == 0, "eof");
  close(sv[1]);
}

static void test_listen_connect(void) {
  struct sockaddr_un a, b;
  socklen_t alen = abstract_addr(&a, "srv");
  int l = socket(AF_UNIX, SOCK_STREAM, 0);
  errno = 0;
  CHECK("listen_unbound_einval", listen(l, 5) == -1 && errno == EINVAL, "listen");
  CHECK("bind_abstract", bind(l, (struct sockaddr *)&a, alen) == 0, "bind");
  errno = 0;
  CHECK("bind_twice_einval", bind(l, (struct sockaddr *)&a, alen) == -1 && errno == EINVAL, "rebind");
  int l2 = socket(AF_UNIX, SOCK_STREAM, 0);
  errno = 0;
  CHECK("bind_in_use", bind(l2, (struct sockaddr *)&a, alen) == -1 && errno == EADDRINUSE, "inuse");
  close(l2);
  CHECK("listen", listen(l, 5) == 0, "listen");
  int acc = -1;
  socklen_t ol = sizeof acc;
  CHECK("so_acceptconn", getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &acc, &ol) == 0 && acc == 1, "acc=%d", acc);
  fcntl(l, F_SETFL, O_NONBLOCK);
  errno = 0;
  CHECK("accept_nonblock_eagain", accept(l, NULL, NULL) == -1 && errno == EAGAIN, "accept");
  struct pollfd p = {l, POLLIN, 0};
  CHECK("listen_poll_idle", poll(&p, 1, 0) == 0, "revents=%#x", p.revents);
  int c = socket(AF_UNIX, SOCK_STREAM, 0);
  CHECK("connect_abstract", connect(c, (struct sockaddr *)&a, alen) == 0, "connect");
  CHECK("listen_poll_ready", poll(&p, 1, 0) == 1 && (p.revents & POLLIN), "revents=%#x", p.revents);
  errno = 0;
  CHECK("connect_again_eisconn", connect(c, (struct sockaddr *)&a, alen) == -1 && errno == EISCONN, "eisconn");
  socklen_t bl = sizeof b;
  int s = accept4(l, (struct sockaddr *)&b, &bl, SOCK_CLOEXEC);
  CHECK("accept4", s >= 0, "accept4");
  CHECK("accept_peer_unnamed", bl == sizeof(sa_family_t), "bl=%d", bl);
  CHECK("accept4_cloexec", (fcntl(s, F_GETFD) & FD_CLOEXEC) != 0, "cloexec");
  CHECK("accepted_blocking", (fcntl(s, F_GETFL) & O_NONBLOCK) == 0, "flags");
  bl = sizeof b;
  CHECK("accepted_sockname_is_listener", getsockname(s, (struct sockaddr *)&b, &bl) == 0 && bl == alen && memcmp(&a, &b, alen) == 0, "bl=%d", bl);
  bl = sizeof b;
  CHECK("client_peername_is_listener", getpeername(c, (struct sockaddr *)&b, &bl) == 0 && bl == alen && memcmp(&a, &b, alen) == 0, "bl=%d", bl);
  struct ucred cr;
  socklen_t crl = sizeof cr;
  CHECK("so_peercred_server", getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &crl) == 0 && cr.pid == getpid() && cr.uid == geteuid() && crl == sizeof cr, "pid=%d", cr.pid);
  crl = sizeof cr;
  CHECK("so_peercred_client", getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &crl) == 0 && cr.pid == getpid(), "pid=%d", cr.pid);
  char buf[64];
  CHECK("accepted_exchange", write(c, "ping", 4) == 4 && read(s, buf, sizeof buf) == 4 && write(s, "pong", 4) == 4 && read(c, buf, sizeof buf) == 4 && memcmp(buf, "pong", 4) == 0, "exchange");

  // MSG_WAITALL collects data written in pieces by a child.
  pid_t pid = fork();
  if (pid == 0) {
    for (int i = 0; i < 4; i++) {
      usleep(2000);
      write(c, "0123456789", 10);
    }
    _exit(0);
  }
  CHECK("recv_waitall", recv(s, buf, 40, MSG_WAITALL) == 40 && memcmp(buf + 30, "0123456789", 10) == 0, "waitall");
  waitpid(pid, NULL, 0);
  close(c);
  CHECK("server_eof_after_client_close", read(s, buf, sizeof buf) == 0, "eof");
  close(s);

  // Connect to a name nobody has bound, and to a datagram socket's name.
  struct sockaddr_un z;
  socklen_t zl = abstract_addr(&z, "nobody");
  c = socket(AF_UNIX, SOCK_STREAM, 0);
  errno = 0;
  CHECK("connect_unbound_econnrefused", connect(c, (struct sockaddr *)&z, zl) == -1 && errno == ECONNREFUSED, "refused");
  int d = socket(AF_UNIX, SOCK_DGRAM, 0);
  zl = abstract_addr(&z, "dgram");
  bind(d, (struct sockaddr *)&z, zl);
  errno = 0;
  CHECK("connect_abstract_wrong_type_econnrefused", connect(c, (struct sockaddr *)&z, zl) == -1 && errno == ECONNREFUSED, "refused");
  close(d);
  close(c);

  // Unaccepted connections die with the listener.
  c = socket(AF_UNIX, SOCK_STREAM, 0);
  connect(c, (struct sockaddr *)&a, alen);
  close(l);
  errno = 0;
  CHECK("unaccepted_reset_on_listener_close", read(c, buf, sizeof buf) == -1 && errno == ECONNRESET, "reset");
  close(c);
  // The name is free again.
  l = socket(AF_UNIX, SOCK_STREAM, 0);
  CHECK("abstract_name_released", bind(l, (struct sockaddr *)&a, alen) == 0, "rebind");
  close(l);
}

static void test_autobind(void) {
  int s = socket(AF_UNIX, SOCK_DGRAM, 0);
  struct sockaddr_un a;
  a.sun_family = AF_UNIX;
  CHECK("autobind", bind(s, (struct sockaddr *)&a, sizeof(sa_family_t)) == 0, "bind");
  socklen_t al = sizeof a;
  CHECK("autobind_name", getsockname(s, (struct sockaddr *)&a, &al) == 0 && al == offsetof(struct sockaddr_un, sun_path) + 6 && a.sun_path[0] == 0, "al=%d", al);
  close(s);
}

static void test_dgram_named(void) {
  struct sockaddr_un sa, ca, from;
  socklen_t sl = abstract_addr(&sa, "dsrv"), cl = abstract_addr(&ca, "dcli");
  int srv = socket(AF_UNIX, SOCK_DGRAM, 0), cli = socket(AF_UNIX, SOCK_DGRAM, 0), anon = socket(AF_UNIX, SOCK_DGRAM, 0);
  bind(srv, (struct sockaddr *)&sa, sl);
  bind(cli, (struct sockaddr *)&ca, cl);
  CHECK("dgram_sendto", sendto(cli, "hi", 2, 0, (struct sockaddr *)&sa, sl) == 2, "sendto");
  char buf[16];
  socklen_t fl = sizeof from;
  CHECK("dgram_recvfrom_addr", recvfrom(srv, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl) == 2 && fl == cl && memcmp(&from, &ca, cl) == 0, "fl=%d", fl);
  sendto(anon, "x", 1, 0, (struct sockaddr *)&sa, sl);
  fl = sizeof from;
  CHECK("dgram_recvfrom_unbound_sender", recvfrom(srv, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl) == 1 && fl == 0, "fl=%d", fl);
  errno = 0;
  CHECK("dgram_send_unconnected_enotconn", send(anon, "x", 1, 0) == -1 && errno == ENOTCONN, "enotconn");
  CHECK("dgram_connect", connect(cli, (struct sockaddr *)&sa, sl) == 0, "connect");
  CHECK("dgram_send_connected", send(cli, "yo", 2, 0) == 2 && recv(srv, buf, sizeof buf, 0) == 2, "send");
  // A socket connected to cli refuses others' datagrams... cli is connected to srv, so anon cannot send to cli.
  errno = 0;
  CHECK("dgram_send_to_connected_other_eperm", sendto(anon, "x", 1, 0, (struct sockaddr *)&ca, cl) == -1 && errno == EPERM, "eperm");
  struct sockaddr_un z;
  socklen_t zl = abstract_addr(&z, "nobody");
  errno = 0;
  CHECK("dgram_sendto_nobody_econnrefused", sendto(anon, "x", 1, 0, (struct sockaddr *)&z, zl) == -1 && errno == ECONNREFUSED, "refused");
  close(srv);
  errno = 0;
  CHECK("dgram_send_dead_peer_econnrefused", send(cli, "x", 1, 0) == -1 && errno == ECONNREFUSED, "refused");
  errno = 0;
  CHECK("dgram_send_after_dead_peer_enotconn", send(cli, "x", 1, 0) == -1 && errno == ENOTCONN, "enotconn");
  // Queue limit: a full receiver makes a non-blocking sender wait.
  int r = socket(AF_UNIX, SOCK_DGRAM, 0);
  socklen_t rl = abstract_addr(&z, "full");
  bind(r, (struct sockaddr *)&z, rl);
  int sent = 0;
  while (sent < 1000 && sendto(anon, "q", 1, MSG_DONTWAIT, (struct sockaddr *)&z, rl) == 1) sent++;
  CHECK("dgram_queue_full_eagain", sent > 0 && sent < 1000 && errno == EAGAIN, "sent=%d", sent);
  close(r);
  close(cli);
  close(anon);
}

static void test_rights(void) {
  int sv[2], pfd[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  pipe(pfd);
  char cbuf[CMSG_SPACE(2 * sizeof(int))];
  memset(cbuf, 0, sizeof cbuf);
  struct iovec iov = {"F", 1};
  struct msghdr m = {0};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = cbuf;
  m.msg_controllen = CMSG_SPACE(2 * sizeof(int));
  struct cmsghdr *c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(2 * sizeof(int));
  memcpy(CMSG_DATA(c), pfd, 2 * sizeof(int));
  CHECK("rights_sendmsg", sendmsg(sv[0], &m, 0) == 1, "sendmsg");
  close(pfd[0]);
  close(pfd[1]);
  char rb[4];
  char rc[CMSG_SPACE(2 * sizeof(int))];
  struct iovec riov = {rb, sizeof rb};
  struct msghdr rm = {0};
  rm.msg_iov = &riov;
  rm.msg_iovlen = 1;
  rm.msg_control = rc;
  rm.msg_controllen = sizeof rc;
  CHECK("rights_recvmsg", recvmsg(sv[1], &rm, MSG_CMSG_CLOEXEC) == 1 && rb[0] == 'F', "recvmsg");
  struct cmsghdr *rcm = CMSG_FIRSTHDR(&rm);
  CHECK("rights_cmsg", rcm != NULL && rcm->cmsg_level == SOL_SOCKET && rcm->cmsg_type == SCM_RIGHTS && rcm->cmsg_len == CMSG_LEN(2 * sizeof(int)), "cmsg");
  int got[2] = {-1, -1};
  if (rcm != NULL) memcpy(got, CMSG_DATA(rcm), sizeof got);
  CHECK("rights_controllen", rm.msg_controllen == CMSG_SPACE(2 * sizeof(int)), "len=%zu", (size_t)rm.msg_controllen);
  CHECK("rights_cloexec", got[0] >= 0 && (fcntl(got[0], F_GETFD) & FD_CLOEXEC), "cloexec");
  CHECK("rights_fds_work", write(got[1], "pipe", 4) == 4 && read(got[0], rb, 4) == 4 && memcmp(rb, "pipe", 4) == 0, "pipe");
  close(got[0]);
  close(got[1]);
  // Too small a control buffer: MSG_CTRUNC, and the fd is not installed.
  pipe(pfd);
  m.msg_controllen = CMSG_SPACE(sizeof(int));
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), pfd, sizeof(int));
  sendmsg(sv[0], &m, 0);
  rm.msg_controllen = sizeof(struct cmsghdr);
  CHECK("rights_ctrunc", recvmsg(sv[1], &rm, 0) == 1 && (rm.msg_flags & MSG_CTRUNC), "flags=%#x", rm.msg_flags);
  // The socket itself passed over itself, then a bad fd.
  c->cmsg_len = CMSG_LEN(sizeof(int));
  int bad = 9999;
  memcpy(CMSG_DATA(c), &bad, sizeof(int));
  errno = 0;
  CHECK("rights_bad_fd_ebadf", sendmsg(sv[0], &m, 0) == -1 && errno == EBADF, "ebadf");
  close(pfd[0]);
  close(pfd[1]);
  // fd passing across fork: the child sends, the parent receives a usable fd.
  pid_t pid = fork();
  if (pid == 0) {
    int q[2];
    pipe(q);
    write(q[1], "kid", 3);
    memcpy(CMSG_DATA(c), &q[0], sizeof(int));
    m.msg_controllen = CMSG_SPACE(sizeof(int));
    sendmsg(sv[0], &m, 0);
    _exit(0);
  }
  rm.msg_controllen = sizeof rc;
  recvmsg(sv[1], &rm, 0);
  waitpid(pid, NULL, 0);
  rcm = CMSG_FIRSTHDR(&rm);
  int kfd = -1;
  if (rcm != NULL) memcpy(&kfd, CMSG_DATA(rcm), sizeof(int));
  CHECK("rights_across_fork", kfd >= 0 && read(kfd, rb, 3) == 3 && memcmp(rb, "kid", 3) == 0, "kfd=%d", kfd);
  close(kfd);
  close(sv[0]);
  close(sv[1]);
}

static void test_creds(void) {
  int sv[2];
  socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
  int on = 1;
  CHECK("passcred_set", setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on) == 0, "setsockopt");
  int v = 0;
  socklen_t vl = sizeof v;
  CHECK("passcred_get", getsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &v, &vl) == 0 && v == 1, "v=%d", v);
  send(sv[0], "c", 1, 0);
  char rb[4];
  char rc[CMSG_SPACE(sizeof(struct ucred))];
  struct iovec riov = {rb, sizeof rb};
  struct msghdr rm = {0};
  rm.msg_iov = &riov;
  rm.msg_iovlen = 1;
  rm.msg_control = rc;
  rm.msg_controllen = sizeof rc;
  CHECK("creds_recvmsg", recvmsg(sv[1], &rm, 0) == 1, "recvmsg");
  struct cmsghdr *c = CMSG_FIRSTHDR(&rm);
  struct ucred u = {0};
  if (c != NULL) memcpy(&u, CMSG_DATA(c), sizeof u);
  CHECK("creds_cmsg", c != NULL && c->cmsg_type == SCM_CREDENTIALS && u.pid == getpid() && u.uid == getuid() && u.gid == getgid(), "pid=%d", u.pid);
  // Explicit credentials of one's own are accepted.
  char cb[CMSG_SPACE(sizeof(struct ucred))];
  memset(cb, 0, sizeof cb);
  struct iovec iov = {"e", 1};
  struct msghdr m = {0};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = cb;
  m.msg_controllen = sizeof cb;
  struct cmsghdr *sc = CMSG_FIRSTHDR(&m);
  sc->cmsg_level = SOL_SOCKET;
  sc->cmsg_type = SCM_CREDENTIALS;
  sc->cmsg_len = CMSG_LEN(sizeof(struct ucred));
  struct ucred mine = {getpid(), getuid(), getgid()};
  memcpy(CMSG_DATA(sc), &mine, sizeof mine);
  CHECK("creds_explicit_send", sendmsg(sv[0], &m, 0) == 1, "sendmsg");
  rm.msg_controllen = sizeof rc;
  CHECK("creds_explicit_recv", recvmsg(sv[1], &rm, 0) == 1 && CMSG_FIRSTHDR(&rm) != NULL, "recv");
  close(sv[0]);
  close(sv[1]);
}

static void test_options_and_errors(void) {
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  CHECK("sock_nonblock_flag", (fcntl(s, F_GETFL) & O_NONBLOCK) != 0, "flags");
  CHECK("sock_cloexec_flag", (fcntl(s, F_GETFD) & FD_CLOEXEC) != 0, "fd flags");
  int v = 0;
  socklen_t vl = sizeof v;
  CHECK("so_domain", getsockopt(s, SOL_SOCKET, SO_DOMAIN, &v, &vl) == 0 && v == AF_UNIX, "v=%d", v);
  vl = sizeof v;
  CHECK("so_protocol", getsockopt(s, SOL_SOCKET, SO_PROTOCOL, &v, &vl) == 0 && v == 0, "v=%d", v);
  vl = sizeof v;
  CHECK("so_error_zero", getsockopt(s, SOL_SOCKET, SO_ERROR, &v, &vl) == 0 && v == 0, "v=%d", v);
  struct ucred nc;
  socklen_t ncl = sizeof nc;
  CHECK("so_peercred_unconnected", getsockopt(s, SOL_SOCKET, SO_PEERCRED, &nc, &ncl) == 0 && nc.pid == 0 && nc.uid == (uid_t)-1 && nc.gid == (gid_t)-1, "pid=%d uid=%u", nc.pid, nc.uid);
  v = 32768;
  CHECK("so_sndbuf_set", setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, sizeof v) == 0, "set");
  vl = sizeof v;
  CHECK("so_sndbuf_doubled", getsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, &vl) == 0 && v == 65536, "v=%d", v);
  v = 1;
  CHECK("so_reuseaddr", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v) == 0, "set");
  v = 0;
  vl = sizeof v;
  CHECK("so_reuseaddr_get", getsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, &vl) == 0 && v == 1, "v=%d", v);
  struct timeval tv = {1, 500000};
  CHECK("so_rcvtimeo_set", setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0, "set");
  struct timeval tg = {0};
  socklen_t tl = sizeof tg;
  CHECK("so_rcvtimeo_get", getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tg, &tl) == 0 && tg.tv_sec == 1 && tg.tv_usec == 500000, "tv=%ld.%ld", (long)tg.tv_sec, (long)tg.tv_usec);
  errno = 0;
  CHECK("bad_option_enoprotoopt", getsockopt(s, SOL_SOCKET, 9999, &v, &vl) == -1 && errno == ENOPROTOOPT, "enoprotoopt");
  char b[4];
  errno = 0;
  CHECK("stream_send_unconnected_enotconn", send(s, "x", 1, MSG_NOSIGNAL) == -1 && errno == ENOTCONN, "enotconn");
  errno = 0;
  CHECK("stream_recv_unconnected_einval", recv(s, b, 1, 0) == -1 && errno == EINVAL, "einval");
  errno = 0;
  struct sockaddr_un pa;
  socklen_t pl = sizeof pa;
  CHECK("getpeername_unconnected_enotconn", getpeername(s, (struct sockaddr *)&pa, &pl) == -1 && errno == ENOTCONN, "enotconn");
  errno = 0;
  CHECK("shutdown_bad_how_einval", shutdown(s, 7) == -1 && errno == EINVAL, "einval");
  struct pollfd p = {s, POLLIN | POLLOUT, 0};
  CHECK("unconnected_stream_poll_hup", poll(&p, 1, 0) == 1 && (p.revents & POLLHUP) && (p.revents & POLLOUT), "revents=%#x", p.revents);
  close(s);
  int pfd[2];
  pipe(pfd);
  errno = 0;
  CHECK("enotsock", send(pfd[0], "x", 1, 0) == -1 && errno == ENOTSOCK, "enotsock");
  close(pfd[0]);
  close(pfd[1]);
  errno = 0;
  CHECK("socket_bad_family", socket(12345, SOCK_STREAM, 0) == -1 && errno == EAFNOSUPPORT, "eafnosupport");
  errno = 0;
  CHECK("unix_bad_type", socket(AF_UNIX, 7, 0) == -1 && errno == ESOCKTNOSUPPORT, "esocktnosupport");
  errno = 0;
  CHECK("unix_bad_protocol", socket(AF_UNIX, SOCK_STREAM, 5) == -1 && errno == EPROTONOSUPPORT, "eprotonosupport");
  errno = 0;
  CHECK("socket_bad_flags", socket(AF_UNIX, SOCK_STREAM | 0x1000000, 0) == -1 && errno == EINVAL, "einval");
  int d = socket(AF_UNIX, SOCK_DGRAM, 0);
  errno = 0;
  CHECK("dgram_listen_eopnotsupp", listen(d, 1) == -1 && errno == EOPNOTSUPP, "eopnotsupp");
  errno = 0;
  CHECK("dgram_accept_eopnotsupp", accept(d, NULL, NULL) == -1 && errno == EOPNOTSUPP, "eopnotsupp");
  struct sockaddr_un big;
  memset(&big, 'a', sizeof big);
  big.sun_family = AF_UNIX;
  errno = 0;
  CHECK("bind_addrlen_too_long", bind(d, (struct sockaddr *)&big, sizeof big + 1) == -1 && errno == EINVAL, "einval");
  big.sun_family = AF_INET;
  errno = 0;
  CHECK("bind_wrong_family", bind(d, (struct sockaddr *)&big, 10) == -1 && errno == EINVAL, "einval");
  close(d);
}

static void test_blocking_accept_fork(void) {
  struct sockaddr_un a;
  socklen_t alen = abstract_addr(&a, "fork");
  int l = socket(AF_UNIX, SOCK_STREAM, 0);
  bind(l, (struct sockaddr *)&a, alen);
  listen(l, 1);
  pid_t pid = fork();
  if (pid == 0) {
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    if (connect(c, (struct sockaddr *)&a, alen) != 0) _exit(1);
    char buf[8];
    int n = read(c, buf, sizeof buf);
    write(c, buf, n);
    _exit(0);
  }
  int s = accept(l, NULL, NULL);
  CHECK("blocking_accept", s >= 0, "accept");
  char big[100000];
  for (int i = 0; i < (int)sizeof big; i++) big[i] = (char)(i * 7);
  int sv[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  pid_t w = fork();
  if (w == 0) {
    // Larger than the socket buffer: the writer blocks until the reader drains.
    for (int k = 0; k < 10; k++) write(sv[0], big, sizeof big);
    _exit(0);
  }
  close(sv[0]);
  long total = 0;
  int ok = 1;
  char rb[4096];
  for (;;) {
    int n = read(sv[1], rb, sizeof rb);
    if (n <= 0) break;
    for (int i = 0; i < n; i++)
      if (rb[i] != big[(total + i) % sizeof big]) ok = 0;
    total += n;
  }
  waitpid(w, NULL, 0);
  CHECK("stream_1mb_intact", ok && total == 10 * (long)sizeof big, "total=%ld", total);
  close(sv[1]);
  write(s, "echo", 4);
  char buf[8];
  CHECK("forked_client_echo", read(s, buf, sizeof buf) == 4 && memcmp(buf, "echo", 4) == 0, "echo");
  int st;
  waitpid(pid, &st, 0);
  CHECK("forked_client_exit", WIFEXITED(st) && WEXITSTATUS(st) == 0, "st=%#x", st);
  close(s);
  close(l);
}

int main(void) {
  alarm(30);
  setvbuf(stdout, NULL, _IONBF, 0);
  test_socketpair_stream();
  test_sigpipe();
  test_dgram_pair();
  test_seqpacket_pair();
  test_listen_connect();
  test_autobind();
  test_dgram_named();
  test_rights();
  test_creds();
  test_options_and_errors();
  test_blocking_accept_fork();
  return 0;
}
