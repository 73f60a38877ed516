// AF_INET SOCK_DGRAM over loopback: bind, sendto/recvfrom, connected sockets, message
// boundaries, truncation, peeking, ioctls, sendmmsg/recvmmsg, errors. Only 127.0.0.1 and
// ports the kernel picks are used.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

static int bound(struct sockaddr_in *a) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  memset(a, 0, sizeof *a);
  a->sin_family = AF_INET;
  a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, (struct sockaddr *)a, sizeof *a);
  socklen_t l = sizeof *a;
  getsockname(s, (struct sockaddr *)a, &l);
  return s;
}

static int wait_in(int fd) {
  struct pollfd p = {fd, POLLIN, 0};
  return poll(&p, 1, 5000) == 1;
}

int main(void) {
  alarm(30);
  setvbuf(stdout, NULL, _IONBF, 0);
  struct sockaddr_in sa, ca, from;
  int srv = bound(&sa), cli = bound(&ca);
  CHECK("bind_port_chosen", sa.sin_port != 0 && ca.sin_port != 0 && sa.sin_port != ca.sin_port, "ports");
  CHECK("sendto", sendto(cli, "hello", 5, 0, (struct sockaddr *)&sa, sizeof sa) == 5, "sendto");
  char buf[70000];
  wait_in(srv);
  int avail = -1;
  CHECK("fionread_next_datagram", ioctl(srv, FIONREAD, &avail) == 0 && avail == 5, "avail=%d", avail);
  socklen_t fl = sizeof from;
  CHECK("recvfrom", recvfrom(srv, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl) == 5 && memcmp(buf, "hello", 5) == 0, "recvfrom");
  CHECK("recvfrom_addr", fl == sizeof from && from.sin_port == ca.sin_port && from.sin_addr.s_addr == htonl(INADDR_LOOPBACK), "fl=%d", fl);
  errno = 0;
  CHECK("recv_dontwait_eagain", recv(srv, buf, sizeof buf, MSG_DONTWAIT) == -1 && errno == EAGAIN, "eagain");

  sendto(cli, "one", 3, 0, (struct sockaddr *)&sa, sizeof sa);
  sendto(cli, "twotwo", 6, 0, (struct sockaddr *)&sa, sizeof sa);
  wait_in(srv);
  CHECK("boundaries_first", recv(srv, buf, sizeof buf, 0) == 3, "first");
  wait_in(srv);
  CHECK("peek", recv(srv, buf, sizeof buf, MSG_PEEK) == 6, "peek");
  CHECK("trunc_flag_real_length", recv(srv, buf, 2, MSG_TRUNC) == 6, "trunc");
  sendto(cli, "abcdef", 6, 0, (struct sockaddr *)&sa, sizeof sa);
  wait_in(srv);
  struct iovec iov = {buf, 3};
  struct msghdr m = {0};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_name = &from;
  m.msg_namelen = sizeof from;
  CHECK("recvmsg_msg_trunc", recvmsg(srv, &m, 0) == 3 && (m.msg_flags & MSG_TRUNC) && m.msg_namelen == sizeof from, "flags=%#x", m.msg_flags);
  CHECK("zero_length_datagram", sendto(cli, "", 0, 0, (struct sockaddr *)&sa, sizeof sa) == 0 && wait_in(srv) && recv(srv, buf, sizeof buf, 0) == 0, "zero");
  memset(buf, 'L', 60000);
  CHECK("large_datagram", sendto(cli, buf, 60000, 0, (struct sockaddr *)&sa, sizeof sa) == 60000 && wait_in(srv) && recv(srv, buf, sizeof buf, 0) == 60000, "large");
  errno = 0;
  CHECK("too_large_emsgsize", sendto(cli, buf, 65508, 0, (struct sockaddr *)&sa, sizeof sa) == -1 && errno == EMSGSIZE, "emsgsize");

  // Connected sockets.
  int u = socket(AF_INET, SOCK_DGRAM, 0);
  errno = 0;
  CHECK("send_unconnected_edestaddrreq", send(u, "x", 1, 0) == -1 && errno == EDESTADDRREQ, "edestaddrreq");
  socklen_t pl = sizeof from;
  errno = 0;
  CHECK("peername_unconnected_enotconn", getpeername(u, (struct sockaddr *)&from, &pl) == -1 && errno == ENOTCONN, "enotconn");
  CHECK("connect", connect(u, (struct sockaddr *)&sa, sizeof sa) == 0, "connect");
  pl = sizeof from;
  CHECK("peername_connected", getpeername(u, (struct sockaddr *)&from, &pl) == 0 && from.sin_port == sa.sin_port, "peer");
  struct sockaddr_in ua;
  socklen_t ul = sizeof ua;
  getsockname(u, (struct sockaddr *)&ua, &ul);
  CHECK("connect_autobinds", ua.sin_port != 0 && ua.sin_addr.s_addr == htonl(INADDR_LOOPBACK), "port=%d", ntohs(ua.sin_port));
  CHECK("send_connected", send(u, "c", 1, 0) == 1 && wait_in(srv) && recvfrom(srv, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl) == 1 && from.sin_port == ua.sin_port, "send");
  // A connected socket ignores datagrams from others.
  sendto(cli, "stranger", 8, 0, (struct sockaddr *)&ua, sizeof ua);
  sendto(srv, "friend", 6, 0, (struct sockaddr *)&ua, sizeof ua);
  wait_in(u);
  CHECK("connected_filters_sources", recv(u, buf, sizeof buf, 0) == 6 && memcmp(buf, "friend", 6) == 0, "filter");
  errno = 0;
  CHECK("connected_nothing_else", recv(u, buf, sizeof buf, MSG_DONTWAIT) == -1 && errno == EAGAIN, "eagain");
  struct sockaddr_in unspec = {0};
  unspec.sin_family = AF_UNSPEC;
  CHECK("disconnect_af_unspec", connect(u, (struct sockaddr *)&unspec, sizeof unspec) == 0, "disconnect");
  pl = sizeof from;
  errno = 0;
  CHECK("disconnected_enotconn", getpeername(u, (struct sockaddr *)&from, &pl) == -1 && errno == ENOTCONN, "enotconn");
  close(u);

  // A connected socket learns of a closed port (ICMP port unreachable) as ECONNREFUSED.
  struct sockaddr_in gone;
  int g = bound(&gone);
  close(g);
  u = socket(AF_INET, SOCK_DGRAM, 0);
  connect(u, (struct sockaddr *)&gone, sizeof gone);
  send(u, "x", 1, 0);
  struct pollfd p = {u, POLLIN, 0};
  poll(&p, 1, 2000);
  errno = 0;
  CHECK("connected_port_unreachable_econnrefused", recv(u, buf, sizeof buf, MSG_DONTWAIT) == -1 && errno == ECONNREFUSED, "refused");
  close(u);

  // sendmmsg / recvmmsg.
  struct mmsghdr mm[3];
  struct iovec iv[3];
  char *words[3] = {"a", "bb", "ccc"};
  memset(mm, 0, sizeof mm);
  for (int i = 0; i < 3; i++) {
    iv[i].iov_base = words[i];
    iv[i].iov_len = strlen(words[i]);
    mm[i].msg_hdr.msg_iov = &iv[i];
    mm[i].msg_hdr.msg_iovlen = 1;
    mm[i].msg_hdr.msg_name = &sa;
    mm[i].msg_hdr.msg_namelen = sizeof sa;
  }
  CHECK("sendmmsg", sendmmsg(cli, mm, 3, 0) == 3 && mm[2].msg_len == 3, "sendmmsg");
  char rb[3][8];
  struct mmsghdr rm[3];
  struct iovec riv[3];
  memset(rm, 0, sizeof rm);
  for (int i = 0; i < 3; i++) {
    riv[i].iov_base = rb[i];
    riv[i].iov_len = sizeof rb[i];
    rm[i].msg_hdr.msg_iov = &riv[i];
    rm[i].msg_hdr.msg_iovlen = 1;
  }
  wait_in(srv);
  usleep(20000);
  CHECK("recvmmsg", recvmmsg(srv, rm, 3, MSG_DONTWAIT, NULL) == 3 && rm[0].msg_len == 1 && rm[1].msg_len == 2 && rm[2].msg_len == 3, "recvmmsg");

  // Options and errors.
  int v = 0;
  socklen_t vl = sizeof v;
  CHECK("so_type_dgram", getsockopt(srv, SOL_SOCKET, SO_TYPE, &v, &vl) == 0 && v == SOCK_DGRAM, "v=%d", v);
  vl = sizeof v;
  CHECK("so_protocol_udp", getsockopt(srv, SOL_SOCKET, SO_PROTOCOL, &v, &vl) == 0 && v == IPPROTO_UDP, "v=%d", v);
  struct sockaddr_in bc = {0};
  bc.sin_family = AF_INET;
  bc.sin_port = sa.sin_port;
  bc.sin_addr.s_addr = htonl(INADDR_BROADCAST);
  errno = 0;
  CHECK("broadcast_without_option_eacces", sendto(cli, "b", 1, 0, (struct sockaddr *)&bc, sizeof bc) == -1 && errno == EACCES, "eacces");
  v = 1;
  CHECK("so_broadcast_set", setsockopt(cli, SOL_SOCKET, SO_BROADCAST, &v, sizeof v) == 0, "set");
  v = 0;
  vl = sizeof v;
  CHECK("so_broadcast_get", getsockopt(cli, SOL_SOCKET, SO_BROADCAST, &v, &vl) == 0 && v == 1, "v=%d", v);
  errno = 0;
  CHECK("listen_eopnotsupp", listen(srv, 1) == -1 && errno == EOPNOTSUPP, "eopnotsupp");
  int dup = socket(AF_INET, SOCK_DGRAM, 0);
  errno = 0;
  CHECK("bind_eaddrinuse", bind(dup, (struct sockaddr *)&sa, sizeof sa) == -1 && errno == EADDRINUSE, "inuse");
  v = 1;
  int r1 = socket(AF_INET, SOCK_DGRAM, 0), r2 = socket(AF_INET, SOCK_DGRAM, 0);
  setsockopt(r1, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v);
  setsockopt(r2, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v);
  struct sockaddr_in ra;
  int rs = bound(&ra);
  close(rs);
  CHECK("reuseaddr_both_bind", bind(r1, (struct sockaddr *)&ra, sizeof ra) == 0 && bind(r2, (struct sockaddr *)&ra, sizeof ra) == 0, "reuse");
  close(r1);
  close(r2);
  close(dup);
  struct pollfd wp = {cli, POLLOUT, 0};
  CHECK("always_writable", poll(&wp, 1, 0) == 1 && (wp.revents & POLLOUT), "revents=%#x", wp.revents);
  close(srv);
  close(cli);
  return 0;
}
