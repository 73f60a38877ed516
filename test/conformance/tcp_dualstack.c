// AF_INET6 dual-stack sockets reaching IPv4 through IPv4-mapped addresses: a "[::]" TCP
// listener serving an IPv4 client and a v4-mapped client, UDP over mapped addresses, the
// IPV6_V6ONLY default and address formats. (Native IPv6 destinations are not checked.)
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

static int mapped_loopback(const struct sockaddr_in6 *a) {
  return IN6_IS_ADDR_V4MAPPED(&a->sin6_addr) && a->sin6_addr.s6_addr[12] == 127 && a->sin6_addr.s6_addr[15] == 1;
}

int main(void) {
  alarm(30);
  setvbuf(stdout, NULL, _IONBF, 0);
  int l = socket(AF_INET6, SOCK_STREAM, 0);
  CHECK("inet6_socket", l >= 0, "socket");
  int v = -1;
  socklen_t vl = sizeof v;
  CHECK("v6only_default_off", getsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &v, &vl) == 0 && v == 0, "v=%d", v);
  vl = sizeof v;
  CHECK("so_domain_inet6", getsockopt(l, SOL_SOCKET, SO_DOMAIN, &v, &vl) == 0 && v == AF_INET6, "v=%d", v);
  struct sockaddr_in6 a;
  memset(&a, 0, sizeof a);
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_any;
  CHECK("bind_any6", bind(l, (struct sockaddr *)&a, sizeof a) == 0, "bind");
  socklen_t al = sizeof a;
  CHECK("sockname_any6", getsockname(l, (struct sockaddr *)&a, &al) == 0 && al == sizeof a && a.sin6_family == AF_INET6 && a.sin6_port != 0 && IN6_IS_ADDR_UNSPECIFIED(&a.sin6_addr), "al=%d", al);
  CHECK("listen6", listen(l, 4) == 0, "listen");
  // An IPv4 client reaches the [::] listener.
  int c4 = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a4;
  memset(&a4, 0, sizeof a4);
  a4.sin_family = AF_INET;
  a4.sin_port = a.sin6_port;
  a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK("ipv4_client_connects", connect(c4, (struct sockaddr *)&a4, sizeof a4) == 0, "connect");
  struct sockaddr_in6 p;
  socklen_t pl = sizeof p;
  int s = accept(l, (struct sockaddr *)&p, &pl);
  CHECK("accept_mapped_peer", s >= 0 && pl == sizeof p && p.sin6_family == AF_INET6 && mapped_loopback(&p), "pl=%d", pl);
  struct sockaddr_in6 sn;
  socklen_t sl = sizeof sn;
  CHECK("accepted_mapped_sockname", getsockname(s, (struct sockaddr *)&sn, &sl) == 0 && mapped_loopback(&sn) && sn.sin6_port == a.sin6_port, "sockname");
  char buf[16];
  CHECK("dualstack_exchange", write(c4, "v4", 2) == 2 && read(s, buf, sizeof buf) == 2 && write(s, "v6", 2) == 2 && read(c4, buf, sizeof buf) == 2, "exchange");
  close(s);
  close(c4);
  // An AF_INET6 client connects to a v4-mapped address.
  int c6 = socket(AF_INET6, SOCK_STREAM, 0);
  struct sockaddr_in6 m = a;
  inet_pton(AF_INET6, "::ffff:127.0.0.1", &m.sin6_addr);
  CHECK("mapped_connect", connect(c6, (struct sockaddr *)&m, sizeof m) == 0, "connect");
  s = accept(l, NULL, NULL);
  pl = sizeof p;
  CHECK("mapped_client_peername", getpeername(c6, (struct sockaddr *)&p, &pl) == 0 && mapped_loopback(&p) && p.sin6_port == a.sin6_port, "peer");
  CHECK("mapped_exchange", send(c6, "hi", 2, 0) == 2 && recv(s, buf, sizeof buf, 0) == 2, "exchange");
  close(s);
  close(c6);
  close(l);
  // UDP over mapped addresses.
  int u = socket(AF_INET6, SOCK_DGRAM, 0), r = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in ra;
  memset(&ra, 0, sizeof ra);
  ra.sin_family = AF_INET;
  ra.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(r, (struct sockaddr *)&ra, sizeof ra);
  socklen_t rl = sizeof ra;
  getsockname(r, (struct sockaddr *)&ra, &rl);
  struct sockaddr_in6 ru = m;
  ru.sin6_port = ra.sin_port;
  CHECK("udp6_sendto_mapped", sendto(u, "dg", 2, 0, (struct sockaddr *)&ru, sizeof ru) == 2, "sendto");
  struct sockaddr_in from;
  socklen_t fl = sizeof from;
  struct pollfd pf = {r, POLLIN, 0};
  poll(&pf, 1, 5000);
  CHECK("udp4_receives_from_udp6", recvfrom(r, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl) == 2 && from.sin_family == AF_INET, "recvfrom");
  CHECK("udp4_replies", sendto(r, "re", 2, 0, (struct sockaddr *)&from, fl) == 2, "sendto");
  struct sockaddr_in6 f6;
  socklen_t f6l = sizeof f6;
  pf.fd = u;
  poll(&pf, 1, 5000);
  CHECK("udp6_recvfrom_mapped", recvfrom(u, buf, sizeof buf, 0, (struct sockaddr *)&f6, &f6l) == 2 && f6l == sizeof f6 && mapped_loopback(&f6) && f6.sin6_port == ra.sin_port, "f6l=%d", f6l);
  close(u);
  close(r);
  // Setting V6ONLY after bind is refused.
  int b = socket(AF_INET6, SOCK_STREAM, 0);
  struct sockaddr_in6 z;
  memset(&z, 0, sizeof z);
  z.sin6_family = AF_INET6;
  bind(b, (struct sockaddr *)&z, sizeof z);
  v = 1;
  errno = 0;
  CHECK("v6only_after_bind_einval", setsockopt(b, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof v) == -1 && errno == EINVAL, "einval");
  close(b);
  errno = 0;
  struct sockaddr_in6 shortaddr;
  memset(&shortaddr, 0, sizeof shortaddr);
  shortaddr.sin6_family = AF_INET6;
  int q = socket(AF_INET6, SOCK_STREAM, 0);
  CHECK("bind6_short_einval", bind(q, (struct sockaddr *)&shortaddr, 20) == -1 && errno == EINVAL, "einval");
  close(q);
  return 0;
}
