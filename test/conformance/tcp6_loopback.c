/* TCP and UDP over native IPv6 (::1): bind, connect, accept, addresses, data both ways,
 * EOF, refused connects, V6ONLY, scope rules for link-local, and mapped addresses. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include "check.h"

static struct sockaddr_in6 lo6(int port) {
  struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = IN6ADDR_LOOPBACK_INIT };
  return a;
}

static int port_of(int s) {
  struct sockaddr_in6 a;
  socklen_t l = sizeof a;
  return getsockname(s, (struct sockaddr *)&a, &l) == 0 ? ntohs(a.sin6_port) : -1;
}

int main(void) {
  alarm(30);
  struct sockaddr_in6 any = lo6(0);
  int l = socket(AF_INET6, SOCK_STREAM, 0);
  CHECK("tcp6_bind_loopback", bind(l, (struct sockaddr *)&any, sizeof any) == 0, "bind");
  CHECK("tcp6_listen", listen(l, 4) == 0, "listen");
  int port = port_of(l);
  CHECK("tcp6_ephemeral_port", port >= 32768 && port <= 60999, "port=%d", port);
  struct sockaddr_in6 got;
  socklen_t gl = sizeof got;
  getsockname(l, (struct sockaddr *)&got, &gl);
  CHECK("tcp6_sockname", gl == sizeof got && got.sin6_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&got.sin6_addr), "gl=%u", gl);

  struct sockaddr_in6 to = lo6(port);
  int c = socket(AF_INET6, SOCK_STREAM, 0);
  CHECK("tcp6_connect", connect(c, (struct sockaddr *)&to, sizeof to) == 0, "connect");
  struct sockaddr_in6 peer;
  socklen_t pl = sizeof peer;
  int s = accept(l, (struct sockaddr *)&peer, &pl);
  CHECK("tcp6_accept", s >= 0, "accept");
  CHECK("tcp6_accept_peer", pl == sizeof peer && IN6_IS_ADDR_LOOPBACK(&peer.sin6_addr) && ntohs(peer.sin6_port) == port_of(c), "peer");
  pl = sizeof peer;
  CHECK("tcp6_getpeername", getpeername(c, (struct sockaddr *)&peer, &pl) == 0 && ntohs(peer.sin6_port) == port, "peername");
  int dom = 0;
  socklen_t dl = sizeof dom;
  CHECK("tcp6_so_domain", getsockopt(s, SOL_SOCKET, SO_DOMAIN, &dom, &dl) == 0 && dom == AF_INET6, "dom=%d", dom);

  static char big[300000], back[300000];
  for (size_t i = 0; i < sizeof big; i++) big[i] = (char)(i * 7);
  size_t sent = 0, recvd = 0;
  while (recvd < sizeof big) {
    if (sent < sizeof big) {
      ssize_t n = send(c, big + sent, sizeof big - sent, MSG_DONTWAIT);
      if (n > 0) sent += (size_t)n;
    }
    ssize_t n = recv(s, back + recvd, sizeof back - recvd, MSG_DONTWAIT);
    if (n > 0) recvd += (size_t)n;
    else if (n < 0 && errno != EAGAIN) break;
    else {
      struct pollfd p[2] = { { .fd = s, .events = POLLIN }, { .fd = c, .events = sent < sizeof big ? POLLOUT : 0 } };
      poll(p, 2, 1000);
    }
  }
  CHECK("tcp6_bulk_data", recvd == sizeof big && memcmp(big, back, sizeof big) == 0, "recvd=%zu", recvd);
  CHECK("tcp6_reply", send(s, "pong", 4, 0) == 4, "send");
  char buf[16] = { 0 };
  CHECK("tcp6_reply_read", recv(c, buf, sizeof buf, 0) == 4 && memcmp(buf, "pong", 4) == 0, "buf=%s", buf);
  shutdown(c, SHUT_WR);
  CHECK("tcp6_eof", recv(s, buf, sizeof buf, 0) == 0, "recv");
  int nd = 1;
  CHECK("tcp6_nodelay", setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &nd, sizeof nd) == 0, "setsockopt");
  close(c);
  close(s);

  /* A closed port refuses. */
  close(l);
  int r = socket(AF_INET6, SOCK_STREAM, 0);
  errno = 0;
  CHECK("tcp6_refused", connect(r, (struct sockaddr *)&to, sizeof to) == -1 && errno == ECONNREFUSED, "connect");
  close(r);

  /* V6ONLY: IPv6 peers only; mapped destinations are unreachable. */
  int o = socket(AF_INET6, SOCK_STREAM, 0);
  int one = 1;
  CHECK("tcp6_v6only_set", setsockopt(o, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) == 0, "setsockopt");
  struct sockaddr_in6 wild = { .sin6_family = AF_INET6 };
  CHECK("tcp6_v6only_bind_any", bind(o, (struct sockaddr *)&wild, sizeof wild) == 0 && listen(o, 2) == 0, "bind");
  struct sockaddr_in6 to2 = lo6(port_of(o));
  int c2 = socket(AF_INET6, SOCK_STREAM, 0);
  CHECK("tcp6_v6only_accepts_v6", connect(c2, (struct sockaddr *)&to2, sizeof to2) == 0, "connect");
  int s2 = accept(o, NULL, NULL);
  CHECK("tcp6_v6only_accepted", s2 >= 0, "accept");
  struct sockaddr_in v4 = { .sin_family = AF_INET, .sin_port = to2.sin6_port, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  int c4 = socket(AF_INET, SOCK_STREAM, 0);
  errno = 0;
  CHECK("tcp6_v6only_refuses_v4", connect(c4, (struct sockaddr *)&v4, sizeof v4) == -1 && errno == ECONNREFUSED, "connect");
  int m = socket(AF_INET6, SOCK_STREAM, 0);
  setsockopt(m, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  struct sockaddr_in6 mapped = { .sin6_family = AF_INET6, .sin6_port = htons(9) };
  inet_pton(AF_INET6, "::ffff:127.0.0.1", &mapped.sin6_addr);
  errno = 0;
  CHECK("tcp6_v6only_mapped_enetunreach", connect(m, (struct sockaddr *)&mapped, sizeof mapped) == -1 && errno == ENETUNREACH, "connect");
  close(m); close(c4); close(s2); close(c2); close(o);

  /* Link-local needs a scope; a foreign address cannot be bound. */
  struct sockaddr_in6 ll = { .sin6_family = AF_INET6 };
  inet_pton(AF_INET6, "fe80::1", &ll.sin6_addr);
  int b = socket(AF_INET6, SOCK_STREAM, 0);
  errno = 0;
  CHECK("tcp6_linklocal_no_scope_einval", bind(b, (struct sockaddr *)&ll, sizeof ll) == -1 && errno == EINVAL, "bind");
  struct sockaddr_in6 foreign = { .sin6_family = AF_INET6 };
  inet_pton(AF_INET6, "2001:db8::1", &foreign.sin6_addr);
  errno = 0;
  CHECK("tcp6_bind_foreign_eaddrnotavail", bind(b, (struct sockaddr *)&foreign, sizeof foreign) == -1 && errno == EADDRNOTAVAIL, "bind");
  close(b);

  /* UDP over ::1: datagrams and sender addresses both ways, connected sockets. */
  int u1 = socket(AF_INET6, SOCK_DGRAM, 0), u2 = socket(AF_INET6, SOCK_DGRAM, 0);
  CHECK("udp6_bind", bind(u1, (struct sockaddr *)&any, sizeof any) == 0, "bind");
  struct sockaddr_in6 ut = lo6(port_of(u1));
  CHECK("udp6_sendto", sendto(u2, "hello6", 6, 0, (struct sockaddr *)&ut, sizeof ut) == 6, "sendto");
  struct sockaddr_in6 from;
  socklen_t fl = sizeof from;
  memset(buf, 0, sizeof buf);
  CHECK("udp6_recvfrom", recvfrom(u1, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl) == 6 && memcmp(buf, "hello6", 6) == 0, "recv");
  CHECK("udp6_from_addr", fl == sizeof from && IN6_IS_ADDR_LOOPBACK(&from.sin6_addr) && ntohs(from.sin6_port) == port_of(u2), "from");
  CHECK("udp6_connect", connect(u1, (struct sockaddr *)&from, fl) == 0, "connect");
  CHECK("udp6_send_connected", send(u1, "back", 4, 0) == 4, "send");
  CHECK("udp6_recv_reply", recv(u2, buf, sizeof buf, 0) == 4 && memcmp(buf, "back", 4) == 0, "recv");
  struct sockaddr_in6 closed = lo6(9);
  int u3 = socket(AF_INET6, SOCK_DGRAM, 0);
  connect(u3, (struct sockaddr *)&closed, sizeof closed);
  send(u3, "x", 1, 0);
  struct pollfd pe = { .fd = u3, .events = POLLIN };
  poll(&pe, 1, 1000);
  errno = 0;
  CHECK("udp6_port_unreachable_econnrefused", recv(u3, buf, sizeof buf, MSG_DONTWAIT) == -1 && errno == ECONNREFUSED, "recv");
  close(u1); close(u2); close(u3);
  return 0;
}
