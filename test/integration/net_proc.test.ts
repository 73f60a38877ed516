// /proc/net inside the sandbox: busybox netstat, ifconfig and route read the sandbox's
// netstack and unix sockets, never the host's. netstat's view of a fixed set of sockets is
// compared with Linux's own, run in a fresh network namespace.

import { describe, expect, it } from 'vitest';
import { BUSYBOX, compileC, native, sandboxed } from './helpers.js';

// Opens a TCP listener on 127.0.0.1, a dual-stack one on [::], a connection to the first
// (both ends), TCP and UDP sockets on [::1], a bound UDP socket, a unix listener, then lets
// netstat list them all.
const SOCKETS_C = `
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
int main(int argc, char **argv) {
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(7001) };
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  int l = socket(AF_INET, SOCK_STREAM, 0);
  if (bind(l, (void *)&a, sizeof a) || listen(l, 5)) { perror("tcp"); return 1; }
  int c = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(c, (void *)&a, sizeof a)) { perror("connect"); return 1; }
  int s = accept(l, 0, 0);
  struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(7002) };
  int l6 = socket(AF_INET6, SOCK_STREAM, 0);
  if (bind(l6, (void *)&a6, sizeof a6) || listen(l6, 5)) { perror("tcp6"); return 1; }
  struct sockaddr_in6 lo6 = { .sin6_family = AF_INET6, .sin6_port = htons(7004), .sin6_addr = IN6ADDR_LOOPBACK_INIT };
  int n6 = socket(AF_INET6, SOCK_STREAM, 0);
  if (bind(n6, (void *)&lo6, sizeof lo6) || listen(n6, 5)) { perror("tcp6 ::1"); return 1; }
  lo6.sin6_port = htons(7005);
  int u6 = socket(AF_INET6, SOCK_DGRAM, 0);
  if (bind(u6, (void *)&lo6, sizeof lo6)) { perror("udp6 ::1"); return 1; }
  struct sockaddr_in u = a;
  u.sin_port = htons(7003);
  int ud = socket(AF_INET, SOCK_DGRAM, 0);
  if (bind(ud, (void *)&u, sizeof u)) { perror("udp"); return 1; }
  struct sockaddr_un un = { .sun_family = AF_UNIX };
  snprintf(un.sun_path, sizeof un.sun_path, "%s", argv[1]);
  unlink(un.sun_path);
  int ul = socket(AF_UNIX, SOCK_STREAM, 0);
  if (bind(ul, (void *)&un, sizeof un) || listen(ul, 5)) { perror("unix"); return 1; }
  write(c, "hello", 5);
  usleep(100000);
  fflush(stdout);
  char cmd[256];
  snprintf(cmd, sizeof cmd, "%s netstat -tuanx", argv[2]);
  int r = system(cmd);
  unlink(un.sun_path);
  return r == 0 && s >= 0 ? 0 : 1;
}
`;

/** netstat lines about our sockets, with inode numbers and ephemeral ports made comparable. */
function ours(out: string, sock: string): string[] {
  return out
    .split('\n')
    .filter((l) => /:700[1-5]\b/.test(l) || l.includes(sock))
    .map((l) => l.replace(/:\d{5}\b/g, ':EPH').replace(/LISTENING +\d+/, 'LISTENING INO').replace(/\s+/g, ' ').trim())
    .sort();
}

describe('/proc/net in the sandbox (busybox)', () => {
  it('netstat shows the same TCP, TCP6, UDP and unix sockets as Linux does', () => {
    const bin = compileC('procnet_sockets', SOCKETS_C);
    const sock = `/tmp/tsvisor-procnet-${process.pid}.sock`;
    const host = native(['unshare', '-n', 'sh', '-c', `ip link set lo up && ${bin} ${sock} ${BUSYBOX}`]);
    expect(host.status, host.stderr).toBe(0);
    const sb = sandboxed([bin, sock, BUSYBOX]);
    expect(sb.status, sb.stderr).toBe(0);
    const want = ours(host.stdout, sock);
    expect(want).toEqual([
      'tcp 0 0 127.0.0.1:7001 0.0.0.0:* LISTEN',
      'tcp 5 0 127.0.0.1:7001 127.0.0.1:EPH ESTABLISHED',
      'tcp 0 0 127.0.0.1:EPH 127.0.0.1:7001 ESTABLISHED',
      'tcp 0 0 :::7002 :::* LISTEN',
      'tcp 0 0 ::1:7004 :::* LISTEN',
      'udp 0 0 ::1:7005 :::*',
      'udp 0 0 127.0.0.1:7003 0.0.0.0:*',
      `unix 2 [ ACC ] STREAM LISTENING INO ${sock}`,
    ].sort());
    expect(ours(sb.stdout, sock)).toEqual(want);
    // Only the sandbox's own sockets: nothing from the host's listeners.
    expect(sb.stdout.split('\n').filter((l) => /^(tcp|udp)/.test(l)).length).toBe(7);
  });

  it('ifconfig counts loopback traffic from /proc/net/dev; route shows an empty main table', () => {
    const r = sandboxed([BUSYBOX, 'sh', '-c', `${BUSYBOX} ping -c 1 127.0.0.1 >/dev/null; cat /proc/net/dev; ${BUSYBOX} ifconfig lo; ${BUSYBOX} route -n`]);
    expect(r.status).toBe(0);
    // Echo request and reply (84 bytes each) went out and came back in on lo.
    expect(r.stdout).toMatch(/^ {4}lo: +168 +2 +0 +0 +0 +0 +0 +0 +168 +2 /m);
    expect(r.stdout).toContain('RX packets:2 errors:0');
    expect(r.stdout).toContain('TX packets:2 errors:0');
    expect(r.stdout).toMatch(/Kernel IP routing table\nDestination +Gateway +Genmask +Flags Metric Ref +Use Iface\n?$/);
  });

  it('ip addr (netlink) shows the same loopback, IPv6 ::1 included, as Linux in a fresh namespace', () => {
    const host = native(['unshare', '-n', 'sh', '-c', `ip link set lo up && ${BUSYBOX} ip addr`]);
    expect(host.status, host.stderr).toBe(0);
    expect(host.stdout).toContain('inet6 ::1/128 scope host');
    const sb = sandboxed([BUSYBOX, 'ip', 'addr']);
    expect(sb.status).toBe(0);
    expect(sb.stdout).toBe(host.stdout);
    // ifconfig reads /proc/net/dev and /proc/net/if_inet6 (its "inet6 addr:" line) and ioctls.
    const ifcHost = native(['unshare', '-n', 'sh', '-c', `ip link set lo up && ${BUSYBOX} ifconfig lo`]);
    expect(ifcHost.stdout).toContain('inet6 addr: ::1/128 Scope:Host');
    expect(sandboxed([BUSYBOX, 'ifconfig', 'lo']).stdout).toBe(ifcHost.stdout);
    const if6 = sandboxed(['/bin/cat', '/proc/net/if_inet6']);
    expect(if6.stdout).toBe('00000000000000000000000000000001 01 80 10 80       lo\n');
  });
});
