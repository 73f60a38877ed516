// AF_INET6 sockets bound to "::" serving IPv4 and IPv6 peers at the same time: one TCP
// listener accepting from 127.0.0.1 and ::1 in one run, IPV6_V6ONLY listeners, Linux's
// bind conflicts between IPv4 and IPv6 sockets on one port, and v4-mapped connects.
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
#include "inet_addr.h"

static int mapped_loopback(const struct sockaddr_in6 *a) {
  return IN6_IS_ADDR_V4MAPPED(&a->sin6_addr) && a->sin6_addr.s6_addr[12] == 127 && a->sin6_addr.s6_addr[15] == 1;
}

/** A listener on [::]:0 (V6ONLY as asked); returns its fd and port. */
static int listener6(int v6only, int *port) {
  int l = socket(AF_INET6, SOCK_STREAM, 0);
  if (v6only) setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
  struct sockaddr_in6 a = addr6("::", 0);
  if (bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, 8) != 0) return -1;
  socklen_t al = sizeof a;
  getsockname(l, (struct sockaddr *)&a, &al);
  *port = ntohs(a.sin6_port);
  return l;
}

static int connect4(int port) {
  int c = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = addr4("127.0.0.1", port);
  return connect(c, (struct sockaddr *)&a, sizeof a) == 0 ? c : (close(c), -1);
}

static int connect6(const char *to, int port) {
  int c = socket(AF_INET6, SOCK_STREAM, 0);
  struct sockaddr_in6 a = addr6(to, port);
  return connect(c, (struct sockaddr *)&a, sizeof a) == 0 ? c : (close(c), -1);
}

int main(void) {
  alarm(30);
  setvbuf(stdout, NULL, _IONBF, 0);
  int port;
  int l = listener6(0, &port);
  CHECK("dual_listener", l >= 0 && port != 0, "listen");
  // Both families connect before either is accepted.
  int c4 = connect4(port);
  CHECK("dual_v4_client_connects", c4 >= 0, "connect 127.0.0.1");
  int c6 = connect6("::1", port);
  CHECK("dual_v6_client_connects", c6 >= 0, "connect ::1");
  int saw_v4 = 0, saw_v6 = 0, ok_io = 1;
  for (int i = 0; i < 2; i++) {
    struct pollfd pf = {l, POLLIN, 0};
    if (poll(&pf, 1, 10000) != 1 || !(pf.revents & POLLIN)) break;
    struct sockaddr_in6 p;
    socklen_t pl = sizeof p;
    int s = accept(l, (struct sockaddr *)&p, &pl);
    if (s < 0 || pl != sizeof p || p.sin6_family != AF_INET6) break;
    struct sockaddr_in6 sn;
    socklen_t sl = sizeof sn;
    getsockname(s, (struct sockaddr *)&sn, &sl);
    if (mapped_loopback(&p) && mapped_loopback(&sn)) saw_v4++;
    else if (IN6_IS_ADDR_LOOPBACK(&p.sin6_addr) && IN6_IS_ADDR_LOOPBACK(&sn.sin6_addr)) saw_v6++;
    char b[8];
    ok_io &= write(s, "hey", 3) == 3;
    int from = IN6_IS_ADDR_V4MAPPED(&p.sin6_addr) ? c4 : c6;
    ok_io &= read(from, b, sizeof b) == 3;
    close(s);
  }
  CHECK("dual_accepts_v4_mapped_peer", saw_v4 == 1, "saw_v4=%d", saw_v4);
  CHECK("dual_accepts_v6_peer", saw_v6 == 1, "saw_v6=%d", saw_v6);
  CHECK("dual_exchange_both", ok_io, "io");
  close(c4);
  close(c6);
  // The dual listener holds the IPv4 port too.
  int b4 = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a4 = addr4("0.0.0.0", port);
  errno = 0;
  CHECK("v4_bind_conflicts_with_dual", bind(b4, (struct sockaddr *)&a4, sizeof a4) == -1 && errno == EADDRINUSE, "bind");
  close(b4);
  int b6 = socket(AF_INET6, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(b6, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  struct sockaddr_in6 a6 = addr6("::", port);
  errno = 0;
  CHECK("v6only_bind_conflicts_with_dual", bind(b6, (struct sockaddr *)&a6, sizeof a6) == -1 && errno == EADDRINUSE, "bind");
  close(b6);
  close(l);

  // A V6ONLY listener: IPv6 peers only, and an IPv4 socket may share its port.
  int lv = listener6(1, &port);
  CHECK("v6only_listener", lv >= 0, "listen");
  int v = 0;
  socklen_t vl = sizeof v;
  CHECK("v6only_reads_back", getsockopt(lv, IPPROTO_IPV6, IPV6_V6ONLY, &v, &vl) == 0 && v == 1, "v=%d", v);
  errno = 0;
  c4 = connect4(port);
  CHECK("v6only_refuses_v4", c4 < 0 && errno == ECONNREFUSED, "c4=%d", c4);
  if (c4 >= 0) close(c4);
  c6 = connect6("::1", port);
  int s6 = accept(lv, NULL, NULL);
  CHECK("v6only_accepts_v6", c6 >= 0 && s6 >= 0, "accept");
  close(s6);
  close(c6);
  int l4 = socket(AF_INET, SOCK_STREAM, 0);
  a4 = addr4("0.0.0.0", port);
  CHECK("v4_shares_port_with_v6only", bind(l4, (struct sockaddr *)&a4, sizeof a4) == 0 && listen(l4, 4) == 0, "bind");
  c4 = connect4(port);
  int s4 = accept(l4, NULL, NULL);
  CHECK("v4_listener_beside_v6only", c4 >= 0 && s4 >= 0, "accept");
  close(s4);
  close(c4);
  // ...and a dual socket on that port conflicts with both.
  int d = socket(AF_INET6, SOCK_STREAM, 0);
  struct sockaddr_in6 ad = addr6("::", port);
  errno = 0;
  CHECK("dual_bind_conflicts", bind(d, (struct sockaddr *)&ad, sizeof ad) == -1 && errno == EADDRINUSE, "bind");
  close(d);
  close(l4);
  close(lv);

  // IPv4 first, then a dual socket on its port: EADDRINUSE; a V6ONLY one: fine.
  int f4 = socket(AF_INET, SOCK_STREAM, 0);
  a4 = addr4("127.0.0.1", 0);
  bind(f4, (struct sockaddr *)&a4, sizeof a4);
  socklen_t a4l = sizeof a4;
  getsockname(f4, (struct sockaddr *)&a4, &a4l);
  port = ntohs(a4.sin_port);
  d = socket(AF_INET6, SOCK_STREAM, 0);
  ad = addr6("::", port);
  errno = 0;
  CHECK("dual_after_v4_eaddrinuse", bind(d, (struct sockaddr *)&ad, sizeof ad) == -1 && errno == EADDRINUSE, "bind");
  CHECK("dual_unbound_after_conflict", bind(d, (struct sockaddr *)&ad, sizeof ad) == -1 && errno == EADDRINUSE, "again");
  close(d);
  d = socket(AF_INET6, SOCK_STREAM, 0);
  setsockopt(d, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  CHECK("v6only_after_v4_ok", bind(d, (struct sockaddr *)&ad, sizeof ad) == 0, "bind");
  close(d);
  // Mapped v4 bind on a V6ONLY socket is EINVAL.
  d = socket(AF_INET6, SOCK_STREAM, 0);
  setsockopt(d, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  struct sockaddr_in6 am = addr6("::ffff:127.0.0.1", 0);
  errno = 0;
  CHECK("v6only_mapped_bind_einval", bind(d, (struct sockaddr *)&am, sizeof am) == -1 && errno == EINVAL, "bind");
  close(d);
  close(f4);

  // A dual listener, reached by an AF_INET6 client through a v4-mapped address.
  l = listener6(0, &port);
  int cm = connect6("::ffff:127.0.0.1", port);
  CHECK("mapped_connect_to_dual", cm >= 0, "connect");
  struct sockaddr_in6 p;
  socklen_t pl = sizeof p;
  int sm = accept(l, (struct sockaddr *)&p, &pl);
  CHECK("mapped_peer_on_dual", sm >= 0 && mapped_loopback(&p), "accept");
  pl = sizeof p;
  CHECK("mapped_client_peername", getpeername(cm, (struct sockaddr *)&p, &pl) == 0 && pl == sizeof p && mapped_loopback(&p) && ntohs(p.sin6_port) == port, "peer");
  pl = sizeof p;
  CHECK("mapped_client_sockname", getsockname(cm, (struct sockaddr *)&p, &pl) == 0 && mapped_loopback(&p), "sockname");
  close(sm);
  close(cm);
  // Bound to "::" first, then connected to IPv6: the socket is not stuck on IPv4.
  int bc = socket(AF_INET6, SOCK_STREAM, 0);
  struct sockaddr_in6 any = addr6("::", 0);
  bind(bc, (struct sockaddr *)&any, sizeof any);
  struct sockaddr_in6 dst = addr6("::1", port);
  CHECK("bound_any_then_connect_v6", connect(bc, (struct sockaddr *)&dst, sizeof dst) == 0, "connect");
  sm = accept(l, (struct sockaddr *)&p, &pl);
  pl = sizeof p;
  CHECK("bound_any_v6_peer", sm >= 0 && getpeername(bc, (struct sockaddr *)&p, &pl) == 0 && IN6_IS_ADDR_LOOPBACK(&p.sin6_addr), "peer");
  close(sm);
  close(bc);
  // The same, connected to a mapped IPv4 address.
  bc = socket(AF_INET6, SOCK_STREAM, 0);
  bind(bc, (struct sockaddr *)&any, sizeof any);
  dst = addr6("::ffff:127.0.0.1", port);
  CHECK("bound_any_then_connect_mapped", connect(bc, (struct sockaddr *)&dst, sizeof dst) == 0, "connect");
  sm = accept(l, (struct sockaddr *)&p, &pl);
  CHECK("bound_any_mapped_accepted", sm >= 0, "accept");
  close(sm);
  close(bc);
  // Connecting to "::" reaches ::1.
  bc = socket(AF_INET6, SOCK_STREAM, 0);
  dst = addr6("::", port);
  CHECK("connect_unspecified", connect(bc, (struct sockaddr *)&dst, sizeof dst) == 0, "connect");
  pl = sizeof p;
  CHECK("connect_unspecified_is_v6_loopback", getpeername(bc, (struct sockaddr *)&p, &pl) == 0 && IN6_IS_ADDR_LOOPBACK(&p.sin6_addr), "peer");
  close(bc);
  close(l);
  // V6ONLY after bind: EINVAL.
  int b = socket(AF_INET6, SOCK_STREAM, 0);
  bind(b, (struct sockaddr *)&any, sizeof any);
  errno = 0;
  CHECK("v6only_after_bind_einval", setsockopt(b, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) == -1 && errno == EINVAL, "einval");
  close(b);
  // V6ONLY on, then off again before bind: dual once more.
  b = socket(AF_INET6, SOCK_STREAM, 0);
  int zero = 0;
  setsockopt(b, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  setsockopt(b, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  bind(b, (struct sockaddr *)&any, sizeof any);
  listen(b, 4);
  pl = sizeof p;
  getsockname(b, (struct sockaddr *)&p, &pl);
  c4 = connect4(ntohs(p.sin6_port));
  CHECK("v6only_off_again_serves_v4", c4 >= 0, "connect");
  close(c4);
  close(b);
  return 0;
}
