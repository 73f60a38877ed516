// /proc/net text generated from a netstack: Linux's column formats, byte order and states.

import { describe, expect, it } from 'vitest';
import { isErr } from '../../sentry/abi/result.js';
import { procNetArp, procNetDev, procNetIfInet6, procNetRoute, procNetTcp, procNetUdp } from '../../sentry/fs/proc/net.js';
import { IPV6_LOOPBACK } from '../../sentry/netstack/ipv6/addr6.js';
import { LoopbackLink, Stack, VirtualWire } from '../../sentry/netstack/index.js';
import { setEndpointOwner } from '../../sentry/socket/inet/owners.js';

function loopbackStack(): Stack {
  const st = new Stack({ random: () => 0.5 });
  const lo = st.addNic(new LoopbackLink(65536), 'lo');
  st.addAddress(lo, '127.0.0.1', 8);
  return st;
}

describe('/proc/net from the netstack', () => {
  it('tcp lists a listener and both ends of a connection in host byte order', () => {
    const st = loopbackStack();
    const l = st.newTcpEndpoint();
    l.bind(0x7f000001, 0x1f90);
    l.listen(5);
    setEndpointOwner(l, { uid: 1000, ino: 4242n, v6: false });
    const c = st.newTcpEndpoint();
    c.connect(0x7f000001, 0x1f90);
    const lines = procNetTcp(st, false).split('\n');
    expect(lines[0].trimEnd()).toBe('  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode');
    expect(lines[0].length).toBe(149);
    // Listener: its accept queue (one connection) in rx_queue, the owner's uid and inode.
    expect(lines[1]).toMatch(/^ {3}0: 0100007F:1F90 00000000:0000 0A 00000000:00000001 00:00000000 00000000  1000        0 4242 /);
    const cport = c.localAddress().port.toString(16).toUpperCase().padStart(4, '0');
    expect(lines.some((x) => x.includes(`0100007F:${cport} 0100007F:1F90 01 `))).toBe(true);
    expect(lines.some((x) => x.includes(`0100007F:1F90 0100007F:${cport} 01 `))).toBe(true);
    expect(procNetTcp(st, true).split('\n').filter((x) => x !== '').length).toBe(1);
  });

  it('tcp6 shows an AF_INET6 endpoint with v4-mapped addresses; queues track unread bytes', () => {
    const st = loopbackStack();
    const l = st.newTcpEndpoint();
    l.bind(0, 8080);
    l.listen(1);
    setEndpointOwner(l, { uid: 0, ino: 7n, v6: true });
    const c = st.newTcpEndpoint();
    c.connect(0x7f000001, 8080);
    setEndpointOwner(c, { uid: 0, ino: 8n, v6: true });
    const s = l.accept();
    if (isErr(s)) throw new Error('no connection');
    c.send(new Uint8Array(10));
    st.tick(100);
    const text = procNetTcp(st, true);
    expect(text).toContain(`00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000`);
    expect(text).toMatch(/0000000000000000FFFF00000100007F:[0-9A-F]{4} 0000000000000000FFFF00000100007F:1F90 01 00000000:00000000 .* 8 /);
    // The accepted end has no socket file here: it is listed under tcp with 10 unread bytes and inode 0.
    expect(procNetTcp(st, false)).toMatch(/0100007F:1F90 0100007F:[0-9A-F]{4} 01 00000000:0000000A 00:00000000 00000000     0        0 0 /);
  });

  it('udp lists bound endpoints, connected ones as ESTABLISHED', () => {
    const st = loopbackStack();
    const a = st.newUdpEndpoint();
    a.bind(0x7f000001, 53);
    const b = st.newUdpEndpoint();
    b.connect(0x7f000001, 53);
    b.sendTo(new Uint8Array(3));
    const t = procNetUdp(st, false).split('\n');
    expect(t[0].startsWith('   sl  local_address rem_address   st')).toBe(true);
    expect(t[1]).toMatch(/^ {4}0: 0100007F:0035 00000000:0000 07 00000000:00000003 /);
    expect(t[2]).toMatch(/^ {4}1: 0100007F:[0-9A-F]{4} 0100007F:0035 01 /);
  });

  it('dev counts frames per device; route shows the main table in Linux byte order', () => {
    const st = loopbackStack();
    const wire = new VirtualWire(new Uint8Array([2, 0, 0, 0, 0, 1]), new Uint8Array([2, 0, 0, 0, 0, 2]));
    const eth = st.addNic(wire.a, 'eth0');
    st.addAddress(eth, '192.168.7.2', 24);
    st.addRoute('0.0.0.0', 0, '192.168.7.1', eth);
    const u = st.newUdpEndpoint();
    u.sendTo(new Uint8Array(100), 0x7f000001, 9);
    const dev = procNetDev(st).split('\n');
    expect(dev[1]).toContain('|bytes    packets errs drop fifo frame compressed multicast|bytes');
    // A 128-byte datagram and the 56-byte port unreachable it draws, each sent and received on lo.
    expect(dev[2]).toMatch(/^ {4}lo: +184 +2 +0 +0 +0 +0 +0 +0 +184 +2 /);
    expect(dev[3]).toMatch(/^ {2}eth0: {7}0 {7}0 /);
    const route = procNetRoute(st).split('\n');
    expect(route[0].startsWith('Iface\tDestination\tGateway \tFlags')).toBe(true);
    expect(route).toContain(`eth0\t0007A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0`.padEnd(127));
    expect(route).toContain(`eth0\t00000000\t0107A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0`.padEnd(127));
    expect(route.some((x) => x.startsWith('lo'))).toBe(false);
  });

  it('if_inet6 lists ::1 on lo and the link-local address every Ethernet NIC gets', () => {
    const st = loopbackStack();
    st.ipv6.addAddress(1, IPV6_LOOPBACK, 128);
    st.addNic(new VirtualWire(new Uint8Array([2, 0, 0, 0, 0, 1]), new Uint8Array([2, 0, 0, 0, 0, 2])).a, 'eth0');
    expect(procNetIfInet6(st)).toBe(
      '00000000000000000000000000000001 01 80 10 80       lo\n' +
      'fe80000000000000000000fffe000001 02 40 20 80     eth0\n',
    );
  });

  it('arp lists resolved and permanent neighbors of Ethernet NICs', () => {
    const st = loopbackStack();
    const eth = st.addNic(new VirtualWire(new Uint8Array([2, 0, 0, 0, 0, 1]), new Uint8Array([2, 0, 0, 0, 0, 2])).a, 'eth0');
    st.addAddress(eth, '10.0.0.2', 24);
    st.addStaticNeighbor(eth, '10.0.0.1', new Uint8Array([0xaa, 0xbb, 0xcc, 0, 0x11, 0x22]));
    expect(procNetArp(st)).toBe(
      'IP address       HW type     Flags       HW address            Mask     Device\n' +
      '10.0.0.1         0x1         0x6         aa:bb:cc:00:11:22     *        eth0\n',
    );
  });
});
