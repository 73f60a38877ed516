// Network tools inside the sandbox see its netstack: busybox ip (NETLINK_ROUTE), ifconfig
// (netdevice ioctls) and ping (a raw ICMP socket) over loopback.

import { describe, expect, it } from 'vitest';
import { BUSYBOX, sandboxed } from './helpers.js';

describe('network tools in the sandbox (busybox)', () => {
  it('ip addr and ip link show the loopback device', () => {
    const a = sandboxed([BUSYBOX, 'ip', 'addr']);
    expect(a.status).toBe(0);
    expect(a.stdout).toMatch(/^1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536/m);
    expect(a.stdout).toContain('inet 127.0.0.1/8 scope host lo');
    const l = sandboxed([BUSYBOX, 'ip', 'link', 'show', 'lo']);
    expect(l.stdout).toContain('link/loopback 00:00:00:00:00:00');
    // The sandbox has loopback only: no host interface leaks in.
    expect(a.stdout).not.toMatch(/^2: /m);
  });

  it('ip route lists the loopback subnet in the local table only', () => {
    const main = sandboxed([BUSYBOX, 'ip', 'route']);
    expect(main.status).toBe(0);
    expect(main.stdout.trim()).toBe('');
    const all = sandboxed([BUSYBOX, 'ip', 'route', 'show', 'table', 'all']);
    expect(all.stdout).toMatch(/local 127\.0\.0\.0\/8 dev lo table local scope host\s+src 127\.0\.0\.1/);
  });

  it('ifconfig reads the interface through ioctls', () => {
    const r = sandboxed([BUSYBOX, 'ifconfig', 'lo']);
    expect(r.stdout).toContain('inet addr:127.0.0.1  Mask:255.0.0.0');
    expect(r.stdout).toMatch(/UP LOOPBACK RUNNING\s+MTU:65536/);
  });

  it('ping reaches 127.0.0.1 and reports an unreachable network', () => {
    const ok = sandboxed([BUSYBOX, 'ping', '-c', '2', '-i', '0.2', '127.0.0.1']);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('2 packets transmitted, 2 packets received, 0% packet loss');
    const bad = sandboxed([BUSYBOX, 'ping', '-c', '1', '-W', '1', '10.255.255.1']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('Network is unreachable');
  });

  it('ping6 reaches ::1 (a raw ICMPv6 socket, hop limit from the control message)', () => {
    const ok = sandboxed([BUSYBOX, 'ping6', '-c', '2', '-i', '0.2', '::1']);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/^64 bytes from ::1: seq=0 ttl=64 time=/m);
    expect(ok.stdout).toContain('2 packets transmitted, 2 packets received, 0% packet loss');
    const bad = sandboxed([BUSYBOX, 'ping6', '-c', '1', '-W', '1', '2001:db8::1']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('Network is unreachable');
  });
});
