// NETLINK_ROUTE over the netstack: dumps of links, addresses and routes, and the error a
// configuration request gets; malformed datagrams are ignored.

import { describe, expect, it } from 'vitest';
import { E } from '../../sentry/abi/errno.js';
import { isErr } from '../../sentry/abi/result.js';
import type { Task } from '../../sentry/kernel/task.js';
import { NetService } from '../../sentry/socket/inet/net_service.js';
import { NetlinkRouteSocket } from '../../sentry/socket/netlink/route_socket.js';
import { parseMessages } from '../../sentry/socket/netlink/message.js';

const cred = { pid: 42, uid: 0, gid: 0 };
const ctx = {};

function request(type: number, flags: number, family = 0): Uint8Array {
  const b = new Uint8Array(20);
  const v = new DataView(b.buffer);
  v.setUint32(0, 20, true);
  v.setUint16(4, type, true);
  v.setUint16(6, flags, true);
  v.setUint32(8, 9, true);
  b[16] = family;
  return b;
}

async function replies(s: NetlinkRouteSocket): Promise<{ type: number; body: Uint8Array }[]> {
  const out: { type: number; body: Uint8Array }[] = [];
  for (;;) {
    const buf = new Uint8Array(65536);
    const r = await s.recvmsg(buf, 0x40, ctx);
    if (isErr(r)) return out;
    for (const m of parseMessages(buf.subarray(0, r.n))) {
      expect(m.seq).toBe(9);
      out.push({ type: m.type, body: m.body });
    }
  }
}

function send(s: NetlinkRouteSocket, data: Uint8Array): void {
  s.sendmsg({ data, to: null, control: {}, flags: 0, cred, task: null });
}

describe('NETLINK_ROUTE', () => {
  it('dumps the loopback link, its address and its local route', async () => {
    const s = new NetlinkRouteSocket(new NetService(), 3, 0, cred);
    send(s, request(18, 0x301));
    const links = await replies(s);
    expect(links.map((m) => m.type)).toEqual([16, 3]);
    const ifi = new DataView(links[0].body.buffer, links[0].body.byteOffset);
    expect(ifi.getUint16(2, true)).toBe(772);
    expect(ifi.getInt32(4, true)).toBe(1);
    expect(Buffer.from(links[0].body).includes(Buffer.from('lo\0'))).toBe(true);
    send(s, request(22, 0x301, 2));
    const addrs = await replies(s);
    expect(addrs.map((m) => m.type)).toEqual([20, 3]);
    expect([...addrs[0].body.subarray(0, 4)]).toEqual([2, 8, 0x80, 254]);
    send(s, request(26, 0x301, 2));
    const routes = await replies(s);
    expect(routes.map((m) => m.type)).toEqual([24, 3]);
    expect(routes[0].body[4]).toBe(255);
    // IPv6: ::1/128 on lo, scope host.
    send(s, request(22, 0x301, 10));
    const addrs6 = await replies(s);
    expect(addrs6.map((m) => m.type)).toEqual([20, 3]);
    expect([...addrs6[0].body.subarray(0, 4)]).toEqual([10, 128, 0x80, 254]);
    expect(Buffer.from(addrs6[0].body).includes(Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]))).toBe(true);
  });

  it('refuses configuration changes with EOPNOTSUPP and ignores garbage', async () => {
    const s = new NetlinkRouteSocket(new NetService(), 3, 0, cred);
    send(s, request(20, 0x405));
    const r = await replies(s);
    expect(r.map((m) => m.type)).toEqual([2]);
    expect(new DataView(r[0].body.buffer, r[0].body.byteOffset).getInt32(0, true)).toBe(-E.EOPNOTSUPP);
    send(s, Uint8Array.of(1, 2, 3));
    const bad = request(18, 0x301);
    new DataView(bad.buffer).setUint32(0, 9999, true);
    send(s, bad);
    expect(await replies(s)).toEqual([]);
  });

  it('binds with the port id asked for and reports it', () => {
    const s = new NetlinkRouteSocket(new NetService(), 3, 0, cred);
    const sa = new Uint8Array(12);
    const v = new DataView(sa.buffer);
    v.setUint16(0, 16, true);
    v.setUint32(4, 777, true);
    expect(s.bind({} as Task, sa)).toBeUndefined();
    expect(new DataView(s.sockname().buffer).getUint32(4, true)).toBe(777);
  });
});
