/* ICMPv6 raw sockets over ::1: echo with a kernel-computed checksum, ICMP6_FILTER,
 * the hop-limit control message, IPV6_CHECKSUM rules, bind/connect addressing. */
#include <arpa/inet.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include "check.h"

static struct sockaddr_in6 lo6(void) {
  struct sockaddr_in6 a = { .sin6_family = AF_INET6 };
  a.sin6_addr = in6addr_loopback;
  return a;
}

static int echo(int s, const struct sockaddr_in6 *to, uint16_t id, uint16_t seq, size_t len) {
  unsigned char b[256] = { 0 };
  struct icmp6_hdr *h = (struct icmp6_hdr *)b;
  h->icmp6_type = ICMP6_ECHO_REQUEST;
  h->icmp6_id = htons(id);
  h->icmp6_seq = htons(seq);
  for (size_t i = 8; i < len; i++) b[i] = (unsigned char)i;
  return (int)sendto(s, b, len, 0, (const struct sockaddr *)to, to ? sizeof *to : 0);
}

/* The next echo reply with our id (other traffic on the host's lo is skipped), or -1 on timeout. */
static int reply(int s, uint16_t id, unsigned char *b, size_t cap, int *hop, struct sockaddr_in6 *from) {
  for (int tries = 0; tries < 50; tries++) {
    struct pollfd p = { .fd = s, .events = POLLIN };
    if (poll(&p, 1, 2000) != 1) return -1;
    char ctl[64];
    struct iovec iov = { b, cap };
    struct msghdr m = { .msg_name = from, .msg_namelen = sizeof *from, .msg_iov = &iov, .msg_iovlen = 1,
                        .msg_control = ctl, .msg_controllen = sizeof ctl };
    int n = (int)recvmsg(s, &m, 0);
    if (n < 8) return -1;
    struct icmp6_hdr *h = (struct icmp6_hdr *)b;
    if (h->icmp6_type != ICMP6_ECHO_REPLY || ntohs(h->icmp6_id) != id) continue;
    *hop = -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
      if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT) memcpy(hop, CMSG_DATA(c), sizeof *hop);
    return n;
  }
  return -1;
}

int main(void) {
  alarm(30);
  struct sockaddr_in6 lo = lo6();
  int s = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
  CHECK("icmp6_raw_socket", s >= 0, "socket");

  struct icmp6_filter f;
  ICMP6_FILTER_SETBLOCKALL(&f);
  ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
  CHECK("icmp6_filter_set", setsockopt(s, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof f) == 0, "setsockopt");
  struct icmp6_filter g;
  socklen_t gl = sizeof g;
  CHECK("icmp6_filter_get", getsockopt(s, IPPROTO_ICMPV6, ICMP6_FILTER, &g, &gl) == 0 && gl == sizeof g && memcmp(&f, &g, sizeof f) == 0, "gl=%u", gl);
  int one = 1;
  CHECK("icmp6_recvhoplimit", setsockopt(s, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof one) == 0, "setsockopt");

  uint16_t id = (uint16_t)(0x4000 + (getpid() & 0x3fff));
  CHECK("icmp6_echo_send", echo(s, &lo, id, 1, 40) == 40, "sendto");
  unsigned char b[256];
  int hop = 0;
  struct sockaddr_in6 from;
  int n = reply(s, id, b, sizeof b, &hop, &from);
  CHECK("icmp6_echo_reply_len", n == 40, "n=%d", n);
  CHECK("icmp6_echo_reply_from", n > 0 && from.sin6_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&from.sin6_addr), "from");
  CHECK("icmp6_echo_reply_seq", n > 0 && ntohs(((struct icmp6_hdr *)b)->icmp6_seq) == 1, "seq");
  int same = n == 40;
  for (int i = 8; i < 40 && same; i++) same = b[i] == i;
  CHECK("icmp6_echo_reply_data", same, "payload");
  CHECK("icmp6_hoplimit_cmsg", hop == 64, "hop=%d", hop);

  /* Unicast hops: the reply's hop limit is the replier's (64) whatever we send with. */
  int h1 = 7;
  CHECK("icmp6_unicast_hops_set", setsockopt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &h1, sizeof h1) == 0, "set");
  int h2 = 0;
  socklen_t hl = sizeof h2;
  CHECK("icmp6_unicast_hops_get", getsockopt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &h2, &hl) == 0 && h2 == 7, "h2=%d", h2);

  /* A blocked type is never delivered: block echo replies, ping, expect nothing. */
  ICMP6_FILTER_SETBLOCKALL(&f);
  setsockopt(s, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof f);
  echo(s, &lo, id, 2, 16);
  struct pollfd p = { .fd = s, .events = POLLIN };
  CHECK("icmp6_filter_blocks", poll(&p, 1, 300) == 0, "poll says readable");

  /* IPV6_CHECKSUM: fixed for ICMPv6 at the IPv6 level, odd offsets refused at SOL_RAW. */
  int off = 2;
  errno = 0;
  CHECK("icmp6_checksum_ipv6_level_einval", setsockopt(s, IPPROTO_IPV6, IPV6_CHECKSUM, &off, sizeof off) == -1 && errno == EINVAL, "ret");
  off = 3;
  errno = 0;
  CHECK("icmp6_checksum_raw_odd_einval", setsockopt(s, SOL_RAW, IPV6_CHECKSUM, &off, sizeof off) == -1 && errno == EINVAL, "ret");
  int got = 0;
  socklen_t ol = sizeof got;
  CHECK("icmp6_checksum_raw_get", getsockopt(s, SOL_RAW, IPV6_CHECKSUM, &got, &ol) == 0 && got == 2, "got=%d", got);
  /* Linux reads type and code first (EFAULT below 2 bytes), then needs room for the checksum. */
  errno = 0;
  CHECK("icmp6_send_one_byte_efault", sendto(s, "\x80", 1, 0, (struct sockaddr *)&lo, sizeof lo) == -1 && errno == EFAULT, "ret");
  errno = 0;
  CHECK("icmp6_send_too_short_einval", sendto(s, "\x80\0\0", 3, 0, (struct sockaddr *)&lo, sizeof lo) == -1 && errno == EINVAL, "ret");

  /* Addressing: bind to a foreign address fails, ::1 works; connect then send without one. */
  struct sockaddr_in6 other = lo6();
  other.sin6_addr.s6_addr[15] = 2;
  errno = 0;
  CHECK("icmp6_bind_foreign_eaddrnotavail", bind(s, (struct sockaddr *)&other, sizeof other) == -1 && errno == EADDRNOTAVAIL, "bind");
  CHECK("icmp6_bind_loopback", bind(s, (struct sockaddr *)&lo, sizeof lo) == 0, "bind");
  errno = 0;
  CHECK("icmp6_send_no_dest_edestaddrreq", send(s, "\x80\0\0\0\0\0\0\0", 8, 0) == -1 && errno == EDESTADDRREQ, "send");
  CHECK("icmp6_connect", connect(s, (struct sockaddr *)&lo, sizeof lo) == 0, "connect");
  struct sockaddr_in6 peer;
  socklen_t pl = sizeof peer;
  /* A raw socket's peer has port 0, which inet6_getname reports as not connected. */
  errno = 0;
  CHECK("icmp6_getpeername_enotconn", getpeername(s, (struct sockaddr *)&peer, &pl) == -1 && errno == ENOTCONN, "peer");
  ICMP6_FILTER_SETBLOCKALL(&f);
  ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
  setsockopt(s, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof f);
  CHECK("icmp6_connected_send", echo(s, NULL, id, 3, 24) == 24, "send");
  n = reply(s, id, b, sizeof b, &hop, &from);
  CHECK("icmp6_connected_reply", n == 24 && ntohs(((struct icmp6_hdr *)b)->icmp6_seq) == 3, "n=%d", n);
  close(s);

  errno = 0;
  int u = socket(AF_INET6, SOCK_RAW, IPPROTO_UDP);
  CHECK("icmp6_raw_udp_unsupported_or_ok", u >= 0 || errno == EPROTONOSUPPORT || errno == EPERM, "socket");
  if (u >= 0) close(u);
  return 0;
}
