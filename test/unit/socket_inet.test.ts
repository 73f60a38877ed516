// AF_INET sockets over the netstack's loopback, driven by the socket layer directly: a
// blocking accept woken by a connect, data both ways, EOF, EINPROGRESS for non-blocking
// connects, refusals, and UDP datagrams with their source addresses.

import { describe, expect, it } from 'vitest';
import { E } from '../../sentry/abi/errno.js';
import { isErr } from '../../sentry/abi/result.js';
import type { Task } from '../../sentry/kernel/task.js';
import { formatInetAddress, parseInetAddress } from '../../sentry/socket/inet/address.js';
import { NetService } from '../../sentry/socket/inet/net_service.js';
import { TcpSocket } from '../../sentry/socket/inet/tcp_socket.js';
import { UdpSocket } from '../../sentry/socket/inet/udp_socket.js';
import type { Received } from '../../sentry/socket/socket_file.js';
import { O } from '../../sentry/vfs/constants.js';

const LO = 0x7f000001;
const cred = { pid: 1, uid: 0, gid: 0 };
const t = {} as Task;
const ctx = {};

function tcp(net: NetService, flags = 0): TcpSocket {
  return new TcpSocket(net, net.stack.newTcpEndpoint(), flags, cred);
}

function send(s: TcpSocket | UdpSocket, text: string, to: Uint8Array | null = null): Promise<unknown> | unknown {
  return s.sendmsg({ data: Buffer.from(text), to, control: {}, flags: 0, cred, task: null }, ctx);
}

async function recvText(s: TcpSocket | UdpSocket, n: number): Promise<{ text: string; r: Received }> {
  const buf = new Uint8Array(n);
  const r = await s.recvmsg(buf, 0, ctx);
  if (isErr(r)) throw new Error(`recv errno ${r.errno}`);
  return { text: Buffer.from(buf.subarray(0, r.n)).toString(), r };
}

describe('AF_INET sockets on loopback', () => {
  it('connects, accepts, exchanges data and sees EOF', async () => {
    const net = new NetService();
    const l = tcp(net);
    expect(l.bind(t, formatInetAddress({ addr: LO, port: 0 }))).toBeUndefined();
    expect(l.listen(8)).toBeUndefined();
    const port = (parseInetAddress(l.sockname()) as { port: number }).port;
    expect(port).toBeGreaterThan(0);
    const accepted = l.accept(0, ctx);
    const c = tcp(net);
    expect(await c.connect(t, formatInetAddress({ addr: LO, port }), ctx)).toBeUndefined();
    const a = await accepted;
    if (isErr(a)) throw new Error('accept failed');
    const s = a.file as TcpSocket;
    expect(await send(c, 'hello over tcp')).toBe(14);
    expect((await recvText(s, 64)).text).toBe('hello over tcp');
    expect(await send(s, 'reply')).toBe(5);
    expect((await recvText(c, 64)).text).toBe('reply');
    c.decRef();
    expect((await recvText(s, 64)).text).toBe('');
    s.decRef();
    l.decRef();
  });

  it('answers EINPROGRESS for a non-blocking connect and ECONNREFUSED for a closed port', async () => {
    const net = new NetService();
    const l = tcp(net);
    l.bind(t, formatInetAddress({ addr: LO, port: 0 }));
    l.listen(1);
    const addr = l.sockname();
    const c = tcp(net, O.NONBLOCK);
    const r = await c.connect(t, addr, ctx);
    expect(isErr(r) && r.errno).toBe(E.EINPROGRESS);
    expect(c.readiness() & 0x4).toBe(0x4);
    l.decRef();
    const d = tcp(net);
    const refused = await d.connect(t, addr, ctx);
    expect(isErr(refused) && refused.errno).toBe(E.ECONNREFUSED);
  });

  it('delivers UDP datagrams with the sender address', async () => {
    const net = new NetService();
    const a = new UdpSocket(net, net.stack.newUdpEndpoint(), 0, cred);
    const b = new UdpSocket(net, net.stack.newUdpEndpoint(), 0, cred);
    a.bind(t, formatInetAddress({ addr: LO, port: 0 }));
    b.bind(t, formatInetAddress({ addr: LO, port: 0 }));
    expect(await send(a, 'dgram', b.sockname())).toBe(5);
    const { text, r } = await recvText(b, 3);
    expect(text).toBe('dgr');
    expect(r.full).toBe(5);
    expect(r.from).toEqual(a.sockname());
  });
});

describe('ICMP sockets', () => {
  it('a ping socket gets the echo reply carrying its identifier', async () => {
    const { IcmpSocket } = await import('../../sentry/socket/inet/icmp_socket.js');
    const net = new NetService();
    const p = new IcmpSocket(net, false, 0, cred);
    const req = Uint8Array.of(8, 0, 0, 0, 0x12, 0x34, 0, 7, 0x61, 0x62);
    const r = p.sendmsg({ data: req, to: formatInetAddress({ addr: LO, port: 0 }), control: {}, flags: 0, cred, task: null });
    expect(r).toBe(10);
    const buf = new Uint8Array(64);
    const got = await p.recvmsg(buf, 0, ctx);
    if (isErr(got)) throw new Error('no reply');
    expect(buf[0]).toBe(0);
    expect((buf[4] << 8) | buf[5]).toBe((parseInetAddress(p.sockname()) as { port: number }).port);
    expect(buf[7]).toBe(7);
    expect(Buffer.from(buf.subarray(8, got.n)).toString()).toBe('ab');
    const short = p.sendmsg({ data: Uint8Array.of(8, 0), to: formatInetAddress({ addr: LO, port: 0 }), control: {}, flags: 0, cred, task: null });
    expect(isErr(short) && short.errno).toBe(E.EINVAL);
  });

  it('a raw ICMP socket sees the request and the reply with IP headers', async () => {
    const { IcmpSocket } = await import('../../sentry/socket/inet/icmp_socket.js');
    const net = new NetService();
    const raw = new IcmpSocket(net, true, 0, cred);
    const ping = new IcmpSocket(net, false, 0, cred);
    ping.sendmsg({ data: Uint8Array.of(8, 0, 0, 0, 0, 0, 0, 1), to: formatInetAddress({ addr: LO, port: 0 }), control: {}, flags: 0, cred, task: null });
    const types: number[] = [];
    for (let i = 0; i < 2; i++) {
      const buf = new Uint8Array(64);
      const r = await raw.recvmsg(buf, 0, ctx);
      if (isErr(r)) throw new Error('raw recv');
      expect(buf[0]).toBe(0x45);
      expect(buf[9]).toBe(1);
      types.push(buf[20]);
    }
    expect(types).toEqual([8, 0]);
  });
});

describe('outside links', () => {
  it('learns default gateways per interface from a NETLINK_ROUTE dump', async () => {
    const { defaultGateways, parseRouteDump } = await import('../../sentry/socket/inet/outside_link.js');
    const { NlWriter } = await import('../../sentry/socket/netlink/message.js');
    const w = new NlWriter(1, 0);
    // family, dst_len, src_len, tos, table, protocol, scope, type, flags; then attributes.
    const route = (family: number, dstLen: number, table: number, type: number, oif: number, gw: number[] | null): void => {
      const b = w.begin(24, 2).u8(family).u8(dstLen).u8(0).u8(0).u8(table).u8(3).u8(0).u8(type).u32(0);
      b.attrU32(15, table);
      if (gw !== null) b.attr(5, Uint8Array.from(gw));
      b.attrU32(4, oif);
      b.end();
    };
    route(2, 0, 254, 1, 7, [10, 168, 200, 1]); // default via 10.168.200.1 dev 7
    route(2, 24, 254, 1, 7, null); // 10.168.200.0/24 dev 7
    route(2, 0, 255, 2, 1, [127, 0, 0, 1]); // local table: not a default route
    const gw6 = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    route(10, 0, 254, 1, 7, gw6);
    const dump = w.datagrams()[0];
    const routes = parseRouteDump(dump);
    expect(routes).toHaveLength(4);
    const g = defaultGateways(routes, 2);
    expect([...g.keys()]).toEqual([7]);
    expect([...(g.get(7) ?? [])]).toEqual([10, 168, 200, 1]);
    expect([...(defaultGateways(routes, 10).get(7) ?? [])]).toEqual(gw6);
    // A truncated dump yields what was whole.
    expect(parseRouteDump(dump.subarray(0, dump.length - 3))).toHaveLength(3);
  });
});

describe('AF_INET6 on the IPv4 netstack', () => {
  it('maps addresses and refuses native IPv6 ones', async () => {
    const { Inet6Socket, formatInet6Address, parseInet6Address } = await import('../../sentry/socket/inet/inet6_socket.js');
    const mapped = formatInet6Address({ addr: LO, port: 80 });
    expect(parseInet6Address(mapped)).toEqual({ kind: 'v4', a: { addr: LO, port: 80 }, mapped: true });
    expect(parseInet6Address(formatInet6Address({ addr: 0, port: 5 }))).toEqual({ kind: 'v4', a: { addr: 0, port: 5 }, mapped: false });
    const v6 = formatInet6Address({ addr: 0, port: 7 });
    v6[23] = 1; // ::1
    expect(parseInet6Address(v6)).toEqual({ kind: 'v6', port: 7 });
    const short = parseInet6Address(mapped.subarray(0, 20));
    expect(isErr(short) && short.errno).toBe(E.EINVAL);

    const net = new NetService();
    const l = new Inet6Socket(tcp(net), 0, cred);
    expect(l.bind(t, formatInet6Address({ addr: 0, port: 0 }))).toBeUndefined();
    expect(l.listen(4)).toBeUndefined();
    const port = parseInet6Address(l.sockname());
    if (isErr(port) || port.kind !== 'v4') throw new Error('bad sockname');
    const accepted = l.accept(0, ctx);
    const c = tcp(net);
    expect(await c.connect(t, formatInetAddress({ addr: LO, port: port.a.port }), ctx)).toBeUndefined();
    const a = await accepted;
    if (isErr(a)) throw new Error('accept failed');
    expect(a.peer).toEqual(formatInet6Address({ addr: LO, port: (parseInetAddress(c.sockname()) as { port: number }).port }));
    const unreachable = await new Inet6Socket(tcp(net), 0, cred).connect(t, v6, ctx);
    expect(isErr(unreachable) && unreachable.errno).toBe(E.ENETUNREACH);
    const bad = await new Inet6Socket(tcp(net), 0, cred).bind(t, v6);
    expect(isErr(bad) && bad.errno).toBe(E.EADDRNOTAVAIL);
  });
});
