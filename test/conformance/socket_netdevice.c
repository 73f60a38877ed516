// The loopback interface as programs see it: netdevice ioctls, NETLINK_ROUTE dumps and
// getifaddrs(). Only facts true of "lo" on every Linux are checked (other interfaces vary).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

static void test_ioctls(void) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct ifreq r;
  memset(&r, 0, sizeof r);
  strcpy(r.ifr_name, "lo");
  CHECK("siocgifindex_lo", ioctl(s, SIOCGIFINDEX, &r) == 0 && r.ifr_ifindex == 1, "index=%d", r.ifr_ifindex);
  memset(&r, 0, sizeof r);
  r.ifr_ifindex = 1;
  CHECK("siocgifname_1", ioctl(s, SIOCGIFNAME, &r) == 0 && strcmp(r.ifr_name, "lo") == 0, "name=%s", r.ifr_name);
  CHECK("siocgifflags_lo", ioctl(s, SIOCGIFFLAGS, &r) == 0 && (r.ifr_flags & (IFF_UP | IFF_LOOPBACK | IFF_RUNNING)) == (IFF_UP | IFF_LOOPBACK | IFF_RUNNING), "flags=%#x", r.ifr_flags);
  CHECK("siocgifaddr_lo", ioctl(s, SIOCGIFADDR, &r) == 0 && ((struct sockaddr_in *)&r.ifr_addr)->sin_addr.s_addr == htonl(INADDR_LOOPBACK) && r.ifr_addr.sa_family == AF_INET, "addr");
  CHECK("siocgifnetmask_lo", ioctl(s, SIOCGIFNETMASK, &r) == 0 && ((struct sockaddr_in *)&r.ifr_netmask)->sin_addr.s_addr == htonl(0xff000000), "mask");
  CHECK("siocgifmtu_lo", ioctl(s, SIOCGIFMTU, &r) == 0 && r.ifr_mtu == 65536, "mtu=%d", r.ifr_mtu);
  CHECK("siocgifhwaddr_lo", ioctl(s, SIOCGIFHWADDR, &r) == 0 && r.ifr_hwaddr.sa_family == 772, "family=%d", r.ifr_hwaddr.sa_family);
  memset(&r, 0, sizeof r);
  strcpy(r.ifr_name, "nosuchdev0");
  errno = 0;
  CHECK("siocgifflags_unknown_enodev", ioctl(s, SIOCGIFFLAGS, &r) == -1 && errno == ENODEV, "enodev");
  struct ifconf ic;
  memset(&ic, 0, sizeof ic);
  CHECK("siocgifconf_size_query", ioctl(s, SIOCGIFCONF, &ic) == 0 && ic.ifc_len > 0 && ic.ifc_len % sizeof(struct ifreq) == 0, "len=%d", ic.ifc_len);
  struct ifreq reqs[32];
  ic.ifc_len = sizeof reqs;
  ic.ifc_req = reqs;
  int found = 0;
  if (ioctl(s, SIOCGIFCONF, &ic) == 0)
    for (int i = 0; i < ic.ifc_len / (int)sizeof(struct ifreq); i++)
      if (strcmp(reqs[i].ifr_name, "lo") == 0 && ((struct sockaddr_in *)&reqs[i].ifr_addr)->sin_addr.s_addr == htonl(INADDR_LOOPBACK)) found = 1;
  CHECK("siocgifconf_lists_lo", found, "lo missing");
  int u = socket(AF_UNIX, SOCK_STREAM, 0);
  memset(&r, 0, sizeof r);
  strcpy(r.ifr_name, "lo");
  CHECK("netdevice_ioctl_on_unix_socket", ioctl(u, SIOCGIFINDEX, &r) == 0 && r.ifr_ifindex == 1, "index=%d", r.ifr_ifindex);
  close(u);
  close(s);
}

/** Sends an RTM_GET* dump request for family tagged with seq. */
static int send_dump_request(int fd, int type, int family, unsigned seq) {
  struct {
    struct nlmsghdr h;
    struct rtgenmsg g;
    char pad[3];
  } req;
  memset(&req, 0, sizeof req);
  req.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtgenmsg));
  req.h.nlmsg_type = type;
  req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.h.nlmsg_seq = seq;
  req.g.rtgen_family = family;
  return send(fd, &req, req.h.nlmsg_len, 0);
}

/** Sends one dump request and walks the replies, calling fn on each message until DONE. */
static int dump(int fd, int type, int family, void (*fn)(struct nlmsghdr *, void *), void *arg) {
  if (send_dump_request(fd, type, family, 42) < 0) return -1;
  static char buf[65536];
  for (;;) {
    int n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return -1;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_seq != 42) return -2;
      if (h->nlmsg_type == NLMSG_DONE) return 0;
      if (h->nlmsg_type == NLMSG_ERROR) return -3;
      fn(h, arg);
    }
  }
}

static void on_link(struct nlmsghdr *h, void *arg) {
  struct ifinfomsg *ifi = NLMSG_DATA(h);
  int *state = arg;
  if (h->nlmsg_type != RTM_NEWLINK || ifi->ifi_index != 1) return;
  int len = IFLA_PAYLOAD(h);
  for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    if (a->rta_type == IFLA_IFNAME && strcmp(RTA_DATA(a), "lo") == 0) state[0] = 1;
    if (a->rta_type == IFLA_MTU && *(unsigned *)RTA_DATA(a) == 65536) state[1] = 1;
  }
  if (ifi->ifi_type == 772 && (ifi->ifi_flags & IFF_LOOPBACK) && (ifi->ifi_flags & IFF_UP)) state[2] = 1;
}

static void on_addr(struct nlmsghdr *h, void *arg) {
  struct ifaddrmsg *ifa = NLMSG_DATA(h);
  int *state = arg;
  if (h->nlmsg_type != RTM_NEWADDR || ifa->ifa_family != AF_INET || ifa->ifa_index != 1) return;
  int len = IFA_PAYLOAD(h);
  for (struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    if (a->rta_type == IFA_LOCAL && *(unsigned *)RTA_DATA(a) == htonl(INADDR_LOOPBACK)) state[0] = 1;
    if (a->rta_type == IFA_LABEL && strcmp(RTA_DATA(a), "lo") == 0) state[1] = 1;
  }
  if (ifa->ifa_prefixlen == 8 && ifa->ifa_scope == RT_SCOPE_HOST) state[2] = 1;
}

static void test_netlink(void) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  CHECK("netlink_route_socket", fd >= 0, "socket");
  struct sockaddr_nl sa;
  memset(&sa, 0, sizeof sa);
  sa.nl_family = AF_NETLINK;
  CHECK("netlink_bind", bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0, "bind");
  socklen_t sl = sizeof sa;
  CHECK("netlink_sockname_port", getsockname(fd, (struct sockaddr *)&sa, &sl) == 0 && sl == sizeof sa && sa.nl_pid != 0, "pid=%u", sa.nl_pid);
  int link[3] = {0, 0, 0};
  CHECK("rtm_getlink_dump", dump(fd, RTM_GETLINK, AF_UNSPEC, on_link, link) == 0, "dump");
  CHECK("rtm_newlink_lo_name", link[0], "name");
  CHECK("rtm_newlink_lo_mtu", link[1], "mtu");
  CHECK("rtm_newlink_lo_flags", link[2], "flags");
  int addr[3] = {0, 0, 0};
  CHECK("rtm_getaddr_dump", dump(fd, RTM_GETADDR, AF_INET, on_addr, addr) == 0, "dump");
  CHECK("rtm_newaddr_lo_local", addr[0], "local");
  CHECK("rtm_newaddr_lo_label", addr[1], "label");
  CHECK("rtm_newaddr_lo_prefix_scope", addr[2], "prefix/scope");
  // MSG_PEEK|MSG_TRUNC sizes the next reply without consuming it.
  send_dump_request(fd, RTM_GETLINK, AF_UNSPEC, 7);
  char small[4];
  int want = recv(fd, small, sizeof small, MSG_PEEK | MSG_TRUNC);
  static char big[65536];
  int got = recv(fd, big, sizeof big, 0);
  CHECK("netlink_peek_trunc_size", want > (int)sizeof small && want == got, "want=%d got=%d", want, got);
  while (recv(fd, big, sizeof big, MSG_DONTWAIT) > 0) {
  }
  errno = 0;
  CHECK("netlink_protocol_unknown", socket(AF_NETLINK, SOCK_RAW, 31) == -1 && errno == EPROTONOSUPPORT, "eprotonosupport");
  close(fd);
}

static void test_getifaddrs(void) {
  struct ifaddrs *ifs = NULL;
  CHECK("getifaddrs", getifaddrs(&ifs) == 0, "getifaddrs");
  int lo4 = 0;
  for (struct ifaddrs *i = ifs; i != NULL; i = i->ifa_next)
    if (i->ifa_addr != NULL && i->ifa_addr->sa_family == AF_INET && strcmp(i->ifa_name, "lo") == 0 &&
        ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr == htonl(INADDR_LOOPBACK) && (i->ifa_flags & IFF_LOOPBACK))
      lo4 = 1;
  CHECK("getifaddrs_lo_inet", lo4, "lo missing");
  freeifaddrs(ifs);
  CHECK("if_nametoindex_lo", if_nametoindex("lo") == 1, "index");
  char name[IF_NAMESIZE];
  CHECK("if_indextoname_1", if_indextoname(1, name) != NULL && strcmp(name, "lo") == 0, "name");
}

int main(void) {
  alarm(30);
  setvbuf(stdout, NULL, _IONBF, 0);
  test_ioctls();
  test_netlink();
  test_getifaddrs();
  return 0;
}
