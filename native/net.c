/*
 * The sandbox's link to the outside: an AF_PACKET socket on an interface that lives in a
 * network namespace (the sandbox end of a veth pair). The Sentry enters the namespace only
 * for the calling thread and only for this call, opens and binds the socket, reads the
 * interface's index, MTU and MAC, and returns to its own namespace; frames are then read and
 * written on the returned fd.
 */
#define _GNU_SOURCE
#include "napi_args.h"
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/sockios.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* Frames per recvmmsg/sendmmsg call. */
#define BATCH_MAX 256

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

static int arg_str(args_t *a, size_t i, char *out, size_t cap) {
  size_t n = 0;
  napi_valuetype t;
  if (i >= a->argc) return -1;
  napi_typeof(a->env, a->argv[i], &t);
  if (t != napi_string) return -1;
  if (napi_get_value_string_utf8(a->env, a->argv[i], out, cap, &n) != napi_ok) return -1;
  if (n + 1 >= cap) return -1; /* would have been truncated */
  return (int)n;
}

/* Opens the packet socket in the current namespace; fills info and mac. */
static int open_packet(const char *ifname, int32_t *info, uint8_t *mac) {
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
  if (fd < 0) return -errno;
  struct ifreq r;
  memset(&r, 0, sizeof r);
  memcpy(r.ifr_name, ifname, strnlen(ifname, IFNAMSIZ - 1));
  if (ioctl(fd, SIOCGIFINDEX, &r) != 0) goto fail;
  int index = r.ifr_ifindex;
  if (ioctl(fd, SIOCGIFMTU, &r) != 0) goto fail;
  int mtu = r.ifr_mtu;
  if (ioctl(fd, SIOCGIFHWADDR, &r) != 0) goto fail;
  memcpy(mac, r.ifr_hwaddr.sa_data, 6);
  struct sockaddr_ll ll;
  memset(&ll, 0, sizeof ll);
  ll.sll_family = AF_PACKET;
  ll.sll_protocol = htons(ETH_P_ALL);
  ll.sll_ifindex = index;
  if (bind(fd, (struct sockaddr *)&ll, sizeof ll) != 0) goto fail;
  int one = 1;
  /* Our own transmissions must not come back as received frames. */
  if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) != 0) goto fail;
  /* Reads wake up periodically so a closed link's reader can stop. */
  struct timeval tv = {0, 200000};
  if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0) goto fail;
  int buf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf);
  info[0] = index;
  info[1] = mtu;
  return fd;
fail:;
  int e = errno;
  close(fd);
  return -e;
}

/*
 * Turns the interface's checksum and segmentation offloads off, so frames reach a packet
 * socket with real checksums and at most one MTU long (a veth otherwise leaves TCP/UDP
 * checksums to the receiver and passes 64 KiB TSO/GSO frames through).
 */
static int offload_off(const char *ifname) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  static const uint32_t cmds[] = {ETHTOOL_STXCSUM, ETHTOOL_STSO, ETHTOOL_SGSO, ETHTOOL_SGRO};
  int r = 0;
  for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
    struct ethtool_value ev = {cmds[i], 0};
    struct ifreq q;
    memset(&q, 0, sizeof q);
    memcpy(q.ifr_name, ifname, strnlen(ifname, IFNAMSIZ - 1));
    q.ifr_data = (char *)&ev;
    /* TXCSUM must go; the others may be unsupported (EOPNOTSUPP) where already off. */
    if (ioctl(fd, SIOCETHTOOL, &q) != 0 && (i == 0 || errno != EOPNOTSUPP)) {
      r = -errno;
      break;
    }
  }
  close(fd);
  return r;
}

/* netOffloadOff(ifname) -> 0 or -errno, in the caller's namespace (the veth's host end). */
static napi_value net_offload_off(napi_env env, napi_callback_info info) {
  ARGS(1);
  char ifname[IFNAMSIZ + 1];
  int il = arg_str(&A, 0, ifname, sizeof ifname);
  CHECK();
  if (il <= 0 || il >= IFNAMSIZ) return num(env, -EINVAL);
  return num(env, offload_off(ifname));
}

/*
 * netPacketOpen(nsPath, ifname, info: Int32Array(2), mac: Uint8Array(6)) -> fd or -errno.
 * nsPath "" stays in the current namespace.
 */
static napi_value net_packet_open(napi_env env, napi_callback_info info) {
  ARGS(4);
  char ns[256], ifname[IFNAMSIZ + 1];
  int nl = arg_str(&A, 0, ns, sizeof ns);
  int il = arg_str(&A, 1, ifname, sizeof ifname);
  int32_t *out = arg_buf(&A, 2, 8);
  uint8_t *mac = arg_buf(&A, 3, 6);
  CHECK();
  if (nl < 0 || il <= 0 || il >= IFNAMSIZ) return num(env, -EINVAL);
  if (nl == 0) return num(env, open_packet(ifname, out, mac));
  int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0) return num(env, -errno);
  int target = open(ns, O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    int e = errno;
    close(self);
    return num(env, -e);
  }
  int r;
  if (setns(target, CLONE_NEWNET) != 0) {
    r = -errno;
  } else {
    r = open_packet(ifname, out, mac);
    /* Back home. Failing that is reported (the caller ends the boot), never ignored. */
    if (setns(self, CLONE_NEWNET) != 0) {
      int e = errno;
      if (r >= 0) close(r);
      r = -e;
    }
  }
  close(target);
  close(self);
  return num(env, r);
}

/*
 * netEnter(nsPath) -> fd of the thread's previous network namespace, or -errno. Only for the
 * boot's synchronous discovery of the sandbox's interfaces; netLeave(fd) goes back.
 */
static napi_value net_enter(napi_env env, napi_callback_info info) {
  ARGS(1);
  char ns[256];
  int nl = arg_str(&A, 0, ns, sizeof ns);
  CHECK();
  if (nl <= 0) return num(env, -EINVAL);
  int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0) return num(env, -errno);
  int target = open(ns, O_RDONLY | O_CLOEXEC);
  if (target < 0 || setns(target, CLONE_NEWNET) != 0) {
    int e = errno;
    if (target >= 0) close(target);
    close(self);
    return num(env, -e);
  }
  close(target);
  return num(env, self);
}

static napi_value net_leave(napi_env env, napi_callback_info info) {
  ARGS(1);
  int64_t fd = arg_i64(&A, 0);
  CHECK();
  if (fd < 0 || fd > 0x7fffffff) return num(env, -EINVAL);
  int r = setns((int)fd, CLONE_NEWNET) != 0 ? -errno : 0;
  close((int)fd);
  return num(env, r);
}

/* Sends one NETLINK_ROUTE request in the thread's namespace and waits for its ACK: 0 or -errno. */
static int nl_route_ack(void *req, unsigned len) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return -errno;
  struct timeval tv = {2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  int r = 0;
  if (send(fd, req, len, 0) < 0) {
    r = -errno;
  } else {
    char buf[512];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    struct nlmsghdr *h = (struct nlmsghdr *)buf;
    if (n < 0) r = -errno;
    else if (n < (ssize_t)sizeof *h || !NLMSG_OK(h, (size_t)n) || h->nlmsg_type != NLMSG_ERROR) r = -EPROTO;
    else r = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
  }
  close(fd);
  return r;
}

/* RTM_DELADDR for one address (attr IFA_LOCAL or IFA_ADDRESS, alen bytes) on ifindex. */
static int nl_del_addr(unsigned char family, unsigned index, unsigned plen, unsigned short attr,
                       const void *addr, unsigned alen) {
  struct {
    struct nlmsghdr h;
    struct ifaddrmsg a;
    char attrs[64];
  } req;
  memset(&req, 0, sizeof req);
  req.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
  req.h.nlmsg_type = RTM_DELADDR;
  req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  req.h.nlmsg_seq = 1;
  req.a.ifa_family = family;
  req.a.ifa_prefixlen = (unsigned char)plen;
  req.a.ifa_index = index;
  struct rtattr *rta = (struct rtattr *)((char *)&req + NLMSG_ALIGN(req.h.nlmsg_len));
  rta->rta_type = attr;
  rta->rta_len = RTA_LENGTH(alen);
  memcpy(RTA_DATA(rta), addr, alen);
  req.h.nlmsg_len = NLMSG_ALIGN(req.h.nlmsg_len) + RTA_ALIGN(rta->rta_len);
  return nl_route_ack(&req, req.h.nlmsg_len);
}

/*
 * netDelAddr(ifindex, addr (host order), prefixLen) -> 0 or -errno: RTM_DELADDR in the
 * thread's namespace, so the host kernel stops answering for an address the netstack took.
 */
static napi_value net_del_addr(napi_env env, napi_callback_info info) {
  ARGS(3);
  int64_t index = arg_i64(&A, 0), addr = arg_i64(&A, 1), plen = arg_i64(&A, 2);
  CHECK();
  if (index <= 0 || index > 0x7fffffff || addr < 0 || addr > 0xffffffffLL || plen < 0 || plen > 32) return num(env, -EINVAL);
  uint32_t be = htonl((uint32_t)addr);
  return num(env, nl_del_addr(AF_INET, (unsigned)index, (unsigned)plen, IFA_LOCAL, &be, 4));
}

/*
 * netDelAddr6(ifindex, addr (16 bytes), prefixLen) -> 0 or -errno: RTM_DELADDR for an IPv6
 * address the netstack took over.
 */
static napi_value net_del_addr6(napi_env env, napi_callback_info info) {
  ARGS(3);
  int64_t index = arg_i64(&A, 0);
  const unsigned char *addr = arg_buf(&A, 1, 16);
  int64_t plen = arg_i64(&A, 2);
  CHECK();
  if (index <= 0 || index > 0x7fffffff || plen < 0 || plen > 128) return num(env, -EINVAL);
  return num(env, nl_del_addr(AF_INET6, (unsigned)index, (unsigned)plen, IFA_ADDRESS, addr, 16));
}

/*
 * netNoAddrGen6(ifindex) -> 0 or -errno: sets the interface's IPv6 address generation mode
 * to none (RTM_SETLINK, IFLA_INET6_ADDR_GEN_MODE), so the host kernel makes no link-local
 * address of its own on a link whose IPv6 the netstack serves.
 */
static napi_value net_no_addr_gen6(napi_env env, napi_callback_info info) {
  ARGS(1);
  int64_t index = arg_i64(&A, 0);
  CHECK();
  if (index <= 0 || index > 0x7fffffff) return num(env, -EINVAL);
  struct {
    struct nlmsghdr h;
    struct ifinfomsg i;
    char attrs[64];
  } req;
  memset(&req, 0, sizeof req);
  req.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
  req.h.nlmsg_type = RTM_SETLINK;
  req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  req.h.nlmsg_seq = 1;
  req.i.ifi_family = AF_UNSPEC;
  req.i.ifi_index = (int)index;
  /* IFLA_AF_SPEC { AF_INET6 { IFLA_INET6_ADDR_GEN_MODE: u8 } } */
  struct rtattr *spec = (struct rtattr *)((char *)&req + NLMSG_ALIGN(req.h.nlmsg_len));
  spec->rta_type = IFLA_AF_SPEC;
  struct rtattr *af = (struct rtattr *)RTA_DATA(spec);
  af->rta_type = AF_INET6;
  struct rtattr *mode = (struct rtattr *)RTA_DATA(af);
  mode->rta_type = IFLA_INET6_ADDR_GEN_MODE;
  mode->rta_len = RTA_LENGTH(1);
  *(unsigned char *)RTA_DATA(mode) = IN6_ADDR_GEN_MODE_NONE;
  af->rta_len = RTA_LENGTH(RTA_ALIGN(mode->rta_len));
  spec->rta_len = RTA_LENGTH(RTA_ALIGN(af->rta_len));
  req.h.nlmsg_len = NLMSG_ALIGN(req.h.nlmsg_len) + RTA_ALIGN(spec->rta_len);
  return num(env, nl_route_ack(&req, req.h.nlmsg_len));
}

/* A typed array or Buffer argument and its length in bytes (NULL and a->bad when neither). */
static void *arg_buf_len(args_t *a, size_t i, size_t *len) {
  void *data = NULL;
  *len = 0;
  if (i >= a->argc) { a->bad = 1; return NULL; }
  bool is_ta = false;
  napi_is_typedarray(a->env, a->argv[i], &is_ta);
  if (is_ta) {
    napi_typedarray_type type;
    size_t n, off;
    napi_value ab;
    if (napi_get_typedarray_info(a->env, a->argv[i], &type, &n, &data, &ab, &off) != napi_ok) { a->bad = 1; return NULL; }
    size_t esz = (type == napi_int32_array || type == napi_uint32_array) ? 4 : (type == napi_uint8_array || type == napi_int8_array) ? 1 : 0;
    if (esz == 0) { a->bad = 1; return NULL; }
    *len = n * esz;
    return data;
  }
  bool is_buf = false;
  napi_is_buffer(a->env, a->argv[i], &is_buf);
  if (!is_buf || napi_get_buffer_info(a->env, a->argv[i], &data, len) != napi_ok) { a->bad = 1; return NULL; }
  return data;
}

/*
 * netRouteDump(family, out: Uint8Array) -> bytes or -errno: the thread's namespace's routing
 * table as the kernel's RTM_GETROUTE dump (netlink messages, NLMSG_DONE excluded), so the
 * boot learns routes without reading a host path. -ENOBUFS when out is too small.
 */
static napi_value net_route_dump(napi_env env, napi_callback_info info) {
  ARGS(2);
  int64_t family = arg_i64(&A, 0);
  size_t cap = 0;
  uint8_t *out = arg_buf_len(&A, 1, &cap);
  CHECK();
  if (family != AF_INET && family != AF_INET6) return num(env, -EINVAL);
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return num(env, -errno);
  struct timeval tv = {2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  struct {
    struct nlmsghdr h;
    struct rtmsg r;
  } req;
  memset(&req, 0, sizeof req);
  req.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
  req.h.nlmsg_type = RTM_GETROUTE;
  req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.h.nlmsg_seq = 1;
  req.r.rtm_family = (unsigned char)family;
  size_t used = 0;
  int r = 0;
  if (send(fd, &req, req.h.nlmsg_len, 0) < 0) r = -errno;
  char buf[32768];
  while (r == 0) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0) { r = -errno; break; }
    int done = 0;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_DONE) { done = 1; break; }
      if (h->nlmsg_type == NLMSG_ERROR) {
        int e = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
        r = e < 0 ? e : -EPROTO;
        break;
      }
      if (NLMSG_ALIGN(h->nlmsg_len) > cap - used) { r = -ENOBUFS; break; }
      memcpy(out + used, h, h->nlmsg_len);
      used += NLMSG_ALIGN(h->nlmsg_len);
    }
    if (done) break;
  }
  close(fd);
  return num(env, r < 0 ? r : (double)used);
}

/*
 * netPacketRecvBatch(fd, buf, lens: Int32Array) -> frames read (0 when none is waiting) or
 * -errno. buf is split into lens.length equal slots, one frame each (recvmmsg, MSG_DONTWAIT);
 * lens[i] gets frame i's length. One call drains a burst that a single read would take
 * frame by frame.
 */
static napi_value net_packet_recv_batch(napi_env env, napi_callback_info info) {
  ARGS(3);
  int64_t fd = arg_i64(&A, 0);
  size_t blen = 0, nlens = 0;
  uint8_t *buf = arg_buf_len(&A, 1, &blen);
  int32_t *lens = arg_buf_len(&A, 2, &nlens);
  CHECK();
  nlens /= sizeof(int32_t);
  if (fd < 0 || fd > 0x7fffffff || nlens == 0 || nlens > BATCH_MAX || blen / nlens < 64) return num(env, -EINVAL);
  size_t slot = blen / nlens;
  struct mmsghdr msgs[BATCH_MAX];
  struct iovec iov[BATCH_MAX];
  memset(msgs, 0, sizeof msgs[0] * nlens);
  for (size_t i = 0; i < nlens; i++) {
    iov[i].iov_base = buf + i * slot;
    iov[i].iov_len = slot;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  int n = recvmmsg((int)fd, msgs, (unsigned)nlens, MSG_DONTWAIT, NULL);
  if (n < 0) return num(env, errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno);
  for (int i = 0; i < n; i++) lens[i] = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) ? -1 : (int32_t)msgs[i].msg_len;
  return num(env, n);
}

/*
 * netPacketSendBatch(fd, buf, lens: Int32Array, count) -> frames sent or -errno: the first
 * count frames, laid end to end in buf with lengths lens[i], in one sendmmsg.
 */
static napi_value net_packet_send_batch(napi_env env, napi_callback_info info) {
  ARGS(4);
  int64_t fd = arg_i64(&A, 0);
  size_t blen = 0, nlens = 0;
  uint8_t *buf = arg_buf_len(&A, 1, &blen);
  int32_t *lens = arg_buf_len(&A, 2, &nlens);
  int64_t count = arg_i64(&A, 3);
  CHECK();
  nlens /= sizeof(int32_t);
  if (fd < 0 || fd > 0x7fffffff || count < 0 || (size_t)count > nlens || count > BATCH_MAX) return num(env, -EINVAL);
  struct mmsghdr msgs[BATCH_MAX];
  struct iovec iov[BATCH_MAX];
  size_t off = 0;
  memset(msgs, 0, sizeof msgs[0] * (size_t)count);
  for (int64_t i = 0; i < count; i++) {
    if (lens[i] < 0 || (size_t)lens[i] > blen - off) return num(env, -EINVAL);
    iov[i].iov_base = buf + off;
    iov[i].iov_len = (size_t)lens[i];
    off += (size_t)lens[i];
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  int sent = 0;
  while (sent < count) {
    int n = sendmmsg((int)fd, msgs + sent, (unsigned)(count - sent), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      /* A full device queue (ENOBUFS/EAGAIN) drops the rest, as a NIC would. */
      return num(env, sent > 0 ? sent : -errno);
    }
    if (n == 0) break;
    sent += n;
  }
  return num(env, sent);
}

void tsv_register_net(napi_env env, napi_value exports) {
  EXPORT("netEnter", net_enter);
  EXPORT("netLeave", net_leave);
  EXPORT("netDelAddr", net_del_addr);
  EXPORT("netDelAddr6", net_del_addr6);
  EXPORT("netNoAddrGen6", net_no_addr_gen6);
  EXPORT("netPacketOpen", net_packet_open);
  EXPORT("netOffloadOff", net_offload_off);
  EXPORT("netPacketRecvBatch", net_packet_recv_batch);
  EXPORT("netPacketSendBatch", net_packet_send_batch);
  EXPORT("netRouteDump", net_route_dump);
}
