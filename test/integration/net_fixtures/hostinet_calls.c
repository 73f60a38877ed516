// Socket calls on --network=host, printed so a native run and a sandboxed one compare.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define CHECK(what, expr) do { long r_ = (long)(expr); printf("%s = %ld%s%s\n", what, r_ < 0 ? -1L : r_, r_ < 0 ? " " : "", r_ < 0 ? strerrorname_np(errno) : ""); } while (0)

int main(void) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t al = sizeof a;
  int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  CHECK("setsockopt SO_REUSEADDR", setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
  CHECK("bind", bind(l, (struct sockaddr *)&a, sizeof a));
  CHECK("listen", listen(l, 4));
  getsockname(l, (struct sockaddr *)&a, &al);
  int v = 0;
  socklen_t vl = sizeof v;
  CHECK("getsockopt SO_ACCEPTCONN", getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl));
  printf("acceptconn %d\n", v);

  int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int r = connect(c, (struct sockaddr *)&a, sizeof a);
  printf("connect nonblocking: %s\n", r == 0 ? "0" : strerrorname_np(errno));
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = 7}, got;
  epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
  CHECK("epoll_wait out", epoll_wait(ep, &got, 1, 10000));
  printf("event %u out=%d\n", got.data.u32, (got.events & EPOLLOUT) != 0);
  vl = sizeof v;
  getsockopt(c, SOL_SOCKET, SO_ERROR, &v, &vl);
  printf("so_error %d\n", v);
  int s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
  printf("accepted %d\n", s >= 0);
  struct sockaddr_in p1, p2;
  socklen_t l1 = sizeof p1, l2 = sizeof p2;
  getsockname(c, (struct sockaddr *)&p1, &l1);
  getpeername(s, (struct sockaddr *)&p2, &l2);
  printf("names match %d\n", p1.sin_port == p2.sin_port && p1.sin_addr.s_addr == p2.sin_addr.s_addr);

  CHECK("setsockopt TCP_NODELAY", setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one));
  vl = sizeof v;
  getsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, &vl);
  printf("nodelay %d\n", v != 0);
  // A blocking recv with a timeout and nothing to read.
  struct timeval tv = {0, 100000};
  CHECK("setsockopt SO_RCVTIMEO", setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
  char buf[64];
  CHECK("recv timeout", recv(s, buf, sizeof buf, 0));
  CHECK("send", send(c, "hello world", 11, 0));
  struct pollfd pf = {.fd = s, .events = POLLIN};
  CHECK("poll in", poll(&pf, 1, 10000));
  usleep(50000);
  CHECK("ioctl FIONREAD", ioctl(s, FIONREAD, &v));
  printf("fionread %d\n", v);
  CHECK("recv peek", recv(s, buf, 5, MSG_PEEK));
  CHECK("recv waitall", recv(s, buf, 11, MSG_WAITALL));
  printf("data %.11s\n", buf);
  CHECK("shutdown wr", shutdown(c, SHUT_WR));
  CHECK("recv eof", recv(s, buf, sizeof buf, 0));
  close(c);
  CHECK("send after peer close", send(s, "x", 1, MSG_NOSIGNAL));
  usleep(50000);
  CHECK("send after reset", send(s, "x", 1, MSG_NOSIGNAL));

  int u1 = socket(AF_INET, SOCK_DGRAM, 0), u2 = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in ua = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t ual = sizeof ua;
  bind(u1, (struct sockaddr *)&ua, sizeof ua);
  getsockname(u1, (struct sockaddr *)&ua, &ual);
  CHECK("sendto", sendto(u2, "a datagram of 27 characters", 27, 0, (struct sockaddr *)&ua, sizeof ua));
  CHECK("recv trunc", recv(u1, buf, 4, MSG_TRUNC));
  CHECK("recv nonblock empty", recv(u1, buf, 4, MSG_DONTWAIT));
  struct msghdr m = {0};
  struct iovec iov = {buf, 4};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  sendto(u2, "0123456789", 10, 0, (struct sockaddr *)&ua, sizeof ua);
  CHECK("recvmsg short", recvmsg(u1, &m, 0));
  printf("msg_flags trunc %d\n", (m.msg_flags & MSG_TRUNC) != 0);
  CHECK("listen on udp", listen(u1, 1));

  struct ifreq ifs[16];
  struct ifconf ic = {.ifc_len = sizeof ifs, .ifc_req = ifs};
  CHECK("ioctl SIOCGIFCONF", ioctl(u1, SIOCGIFCONF, &ic) >= 0 ? 0 : -1);
  int lo = 0;
  for (int i = 0; i < ic.ifc_len / (int)sizeof(struct ifreq); i++) lo |= strcmp(ifs[i].ifr_name, "lo") == 0;
  printf("lo listed %d\n", lo);
  struct ifreq q = {0};
  strcpy(q.ifr_name, "lo");
  CHECK("ioctl SIOCGIFFLAGS", ioctl(u1, SIOCGIFFLAGS, &q));
  printf("lo up %d\n", (q.ifr_flags & IFF_UP) != 0);

  int six = socket(AF_INET6, SOCK_STREAM, 0);
  struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
  CHECK("setsockopt IPV6_V6ONLY", setsockopt(six, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one));
  CHECK("bind6", bind(six, (struct sockaddr *)&a6, sizeof a6));
  CHECK("connect refused", connect(socket(AF_INET, SOCK_STREAM, 0), (struct sockaddr *)&(struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(1), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)}, sizeof a));
  return 0;
}
