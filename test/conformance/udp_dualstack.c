// AF_INET6 UDP sockets bound to "::" receiving from IPv4 (as ::ffff:a.b.c.d) and IPv6 peers
// at once, sendto both kinds from one socket, V6ONLY, bind conflicts with IPv4 sockets, and
// connect to a v4-mapped address.
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

static int port_of(int fd) {
  struct sockaddr_storage ss;
  socklen_t l = sizeof ss;
  getsockname(fd, (struct sockaddr *)&ss, &l);
  return ss.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&ss)->sin_port) : ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

static int readable(int fd) {
  struct pollfd pf = {fd, POLLIN, 0};
  return poll(&pf, 1, 10000) == 1 && (pf.revents & POLLIN);
}

int main(void) {
  alarm(30);
  setvbuf(stdout, NULL, _IONBF, 0);
  int u = socket(AF_INET6, SOCK_DGRAM, 0);
  struct sockaddr_in6 any = addr6("::", 0);
  CHECK("dual_bind", bind(u, (struct sockaddr *)&any, sizeof any) == 0, "bind");
  int port = port_of(u);
  int s4 = socket(AF_INET, SOCK_DGRAM, 0), s6 = socket(AF_INET6, SOCK_DGRAM, 0);
  struct sockaddr_in to4 = addr4("127.0.0.1", port);
  struct sockaddr_in6 to6 = addr6("::1", port);
  CHECK("send_from_v4", sendto(s4, "four", 4, 0, (struct sockaddr *)&to4, sizeof to4) == 4, "sendto");
  CHECK("send_from_v6", sendto(s6, "six", 3, 0, (struct sockaddr *)&to6, sizeof to6) == 3, "sendto");
  int got4 = 0, got6 = 0;
  struct sockaddr_in6 from4, from6;
  for (int i = 0; i < 2 && readable(u); i++) {
    char b[16];
    struct sockaddr_in6 f;
    socklen_t fl = sizeof f;
    ssize_t n = recvfrom(u, b, sizeof b, 0, (struct sockaddr *)&f, &fl);
    if (n == 4 && fl == sizeof f && IN6_IS_ADDR_V4MAPPED(&f.sin6_addr) && f.sin6_addr.s6_addr[12] == 127) got4++, from4 = f;
    else if (n == 3 && fl == sizeof f && IN6_IS_ADDR_LOOPBACK(&f.sin6_addr)) got6++, from6 = f;
  }
  CHECK("dual_receives_v4_mapped", got4 == 1, "got4=%d", got4);
  CHECK("dual_receives_v6", got6 == 1, "got6=%d", got6);
  // Replies go back through the same socket to either family.
  char b[16];
  CHECK("reply_to_mapped", got4 && sendto(u, "r4", 2, 0, (struct sockaddr *)&from4, sizeof from4) == 2 && readable(s4) && recv(s4, b, sizeof b, 0) == 2, "reply");
  CHECK("reply_to_v6", got6 && sendto(u, "r6", 2, 0, (struct sockaddr *)&from6, sizeof from6) == 2 && readable(s6) && recv(s6, b, sizeof b, 0) == 2, "reply");
  // getsockname of the dual socket: "::" and its port.
  struct sockaddr_in6 sn;
  socklen_t sl = sizeof sn;
  CHECK("dual_sockname_any", getsockname(u, (struct sockaddr *)&sn, &sl) == 0 && sl == sizeof sn && IN6_IS_ADDR_UNSPECIFIED(&sn.sin6_addr) && ntohs(sn.sin6_port) == port, "sockname");
  // Conflicts: an IPv4 socket on the dual socket's port.
  int c = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in b4 = addr4("127.0.0.1", port);
  errno = 0;
  CHECK("v4_bind_conflicts_with_dual", bind(c, (struct sockaddr *)&b4, sizeof b4) == -1 && errno == EADDRINUSE, "bind");
  close(c);
  close(u);

  // An unbound AF_INET6 socket sends to both kinds of destination.
  int a = socket(AF_INET6, SOCK_DGRAM, 0);
  struct sockaddr_in r4 = addr4("127.0.0.1", 0);
  int rv4 = socket(AF_INET, SOCK_DGRAM, 0);
  bind(rv4, (struct sockaddr *)&r4, sizeof r4);
  struct sockaddr_in6 m4 = addr6("::ffff:127.0.0.1", port_of(rv4));
  int rv6 = socket(AF_INET6, SOCK_DGRAM, 0);
  struct sockaddr_in6 r6 = addr6("::1", 0);
  bind(rv6, (struct sockaddr *)&r6, sizeof r6);
  struct sockaddr_in6 d6 = addr6("::1", port_of(rv6));
  CHECK("unbound_sendto_v6", sendto(a, "x", 1, 0, (struct sockaddr *)&d6, sizeof d6) == 1, "sendto");
  CHECK("then_sendto_mapped", sendto(a, "y", 1, 0, (struct sockaddr *)&m4, sizeof m4) == 1, "sendto");
  struct sockaddr_in f4;
  socklen_t f4l = sizeof f4;
  CHECK("v4_peer_receives", readable(rv4) && recvfrom(rv4, b, sizeof b, 0, (struct sockaddr *)&f4, &f4l) == 1 && f4.sin_family == AF_INET && ntohs(f4.sin_port) == port_of(a), "recv");
  struct sockaddr_in6 f6;
  socklen_t f6l = sizeof f6;
  CHECK("v6_peer_receives", readable(rv6) && recvfrom(rv6, b, sizeof b, 0, (struct sockaddr *)&f6, &f6l) == 1 && ntohs(f6.sin6_port) == port_of(a), "recv");
  close(a);

  // connect to a v4-mapped address: send, recv and getpeername in mapped form.
  int k = socket(AF_INET6, SOCK_DGRAM, 0);
  CHECK("connect_mapped", connect(k, (struct sockaddr *)&m4, sizeof m4) == 0, "connect");
  struct sockaddr_in6 pn;
  socklen_t pnl = sizeof pn;
  CHECK("peername_mapped", getpeername(k, (struct sockaddr *)&pn, &pnl) == 0 && pnl == sizeof pn && IN6_IS_ADDR_V4MAPPED(&pn.sin6_addr) && pn.sin6_port == m4.sin6_port, "peer");
  sl = sizeof sn;
  CHECK("sockname_mapped_after_connect", getsockname(k, (struct sockaddr *)&sn, &sl) == 0 && IN6_IS_ADDR_V4MAPPED(&sn.sin6_addr), "sockname");
  CHECK("send_connected_mapped", send(k, "z", 1, 0) == 1 && readable(rv4) && recvfrom(rv4, b, sizeof b, 0, (struct sockaddr *)&f4, &f4l) == 1, "send");
  CHECK("recv_connected_mapped", sendto(rv4, "w", 1, 0, (struct sockaddr *)&f4, f4l) == 1 && readable(k) && recv(k, b, sizeof b, 0) == 1, "recv");
  close(k);

  // V6ONLY: IPv4 datagrams don't arrive; an IPv4 socket may share the port.
  int o = socket(AF_INET6, SOCK_DGRAM, 0);
  int one = 1;
  setsockopt(o, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  bind(o, (struct sockaddr *)&any, sizeof any);
  port = port_of(o);
  int t4 = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in same = addr4("0.0.0.0", port);
  CHECK("v4_shares_port_with_v6only", bind(t4, (struct sockaddr *)&same, sizeof same) == 0, "bind");
  to4 = addr4("127.0.0.1", port);
  to6 = addr6("::1", port);
  sendto(s4, "4", 1, 0, (struct sockaddr *)&to4, sizeof to4);
  sendto(s6, "6", 1, 0, (struct sockaddr *)&to6, sizeof to6);
  CHECK("v6only_gets_v6", readable(o) && recv(o, b, sizeof b, 0) == 1 && b[0] == '6', "recv");
  CHECK("v4_gets_v4", readable(t4) && recv(t4, b, sizeof b, 0) == 1 && b[0] == '4', "recv");
  errno = 0;
  CHECK("v6only_sendto_mapped_unreachable", sendto(o, "m", 1, 0, (struct sockaddr *)&m4, sizeof m4) == -1 && errno == ENETUNREACH, "sendto");
  close(o);
  close(t4);
  close(s4);
  close(s6);
  close(rv4);
  close(rv6);
  return 0;
}
