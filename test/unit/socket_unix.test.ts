// AF_UNIX sockets through the socket syscalls with a fake task: socketpair data and EOF,
// blocking reads woken by a later write, SCM_RIGHTS installing a file, abstract names with
// listen/connect/accept, and datagram addresses.

import { beforeEach, describe, expect, it } from 'vitest';
import { E } from '../../sentry/abi/errno.js';
import { SYS } from '../../sentry/abi/sysno.js';
import type { Task } from '../../sentry/kernel/task.js';
import { createPipe } from '../../sentry/fs/pipe/pipe.js';
import { socketSyscalls } from '../../sentry/syscalls/sys_socket.js';
import { Vfs } from '../../sentry/vfs/vfs.js';
import { createEmptyFs } from '../../sentry/fs/dev/devfs.js';
import { args, fakeTask, type FakeTask } from './vfs_fake_task.js';

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const SOCK_SEQPACKET = 5;
const MSG_DONTWAIT = 0x40;

let t: Task;
let f: FakeTask;

function call(nr: number, ...a: (number | bigint)[]): number | Promise<number> {
  return socketSyscalls[nr](t, args(...a));
}

function pair(type: number): [number, number] {
  const sv = f.mem.alloc(8);
  expect(call(SYS.socketpair, AF_UNIX, type, 0, sv)).toBe(0);
  const v = f.mem.view(sv, 8);
  return [v.getInt32(0, true), v.getInt32(4, true)];
}

function send(fd: number, s: string, flags = 0): number | Promise<number> {
  const b = Buffer.from(s);
  const a = f.mem.alloc(b.length);
  f.mem.bytes.set(b, a - 0x10000);
  return call(SYS.sendto, fd, a, b.length, flags, 0, 0);
}

async function recv(fd: number, n: number, flags = 0): Promise<string | number> {
  const a = f.mem.alloc(n);
  const r = await call(SYS.recvfrom, fd, a, n, flags, 0, 0);
  return r < 0 ? r : f.mem.text(a, r);
}

function abstractAddr(name: string): { addr: number; len: number } {
  const b = Buffer.concat([Buffer.from([AF_UNIX, 0, 0]), Buffer.from(name)]);
  const a = f.mem.alloc(b.length);
  f.mem.bytes.set(b, a - 0x10000);
  return { addr: a, len: b.length };
}

beforeEach(() => {
  ({ t, f } = fakeTask(new Vfs(createEmptyFs('proc'))));
});

describe('AF_UNIX socket syscalls', () => {
  it('moves stream data both ways and reports EOF after close', async () => {
    const [a, b] = pair(SOCK_STREAM);
    expect(send(a, 'hello')).toBe(5);
    expect(await recv(b, 3)).toBe('hel');
    expect(await recv(b, 16)).toBe('lo');
    expect(await recv(b, 16, MSG_DONTWAIT)).toBe(-E.EAGAIN);
    expect(send(b, 'back')).toBe(4);
    expect(await recv(a, 16)).toBe('back');
    t.fds.close(a);
    expect(await recv(b, 16)).toBe('');
  });

  it('parks a blocking read until the peer writes', async () => {
    const [a, b] = pair(SOCK_STREAM);
    const pending = recv(b, 16);
    let done = false;
    void pending.then(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(false);
    send(a, 'late');
    expect(await pending).toBe('late');
  });

  it('keeps seqpacket boundaries and truncates', async () => {
    const [a, b] = pair(SOCK_SEQPACKET);
    send(a, 'abc');
    send(a, 'defgh');
    expect(await recv(b, 16)).toBe('abc');
    expect(await recv(b, 2)).toBe('de');
    expect(await recv(b, 16, MSG_DONTWAIT)).toBe(-E.EAGAIN);
  });

  it('installs a file passed with SCM_RIGHTS', async () => {
    const [a, b] = pair(SOCK_STREAM);
    const { read, write } = createPipe();
    const pfd = t.fds.install(write, {}) as number;
    write.decRef();
    // msghdr with one iovec ("F") and one SCM_RIGHTS cmsg carrying pfd.
    const data = f.mem.alloc(1);
    f.mem.bytes[data - 0x10000] = 0x46;
    const iov = f.mem.alloc(16);
    f.mem.view(iov, 16).setBigUint64(0, BigInt(data), true);
    f.mem.view(iov, 16).setBigUint64(8, 1n, true);
    const ctl = f.mem.alloc(24);
    const cv = f.mem.view(ctl, 24);
    cv.setBigUint64(0, 20n, true);
    cv.setInt32(8, 1, true);
    cv.setInt32(12, 1, true);
    cv.setInt32(16, pfd, true);
    const msg = f.mem.alloc(56);
    const mv = f.mem.view(msg, 56);
    mv.setBigUint64(16, BigInt(iov), true);
    mv.setBigUint64(24, 1n, true);
    mv.setBigUint64(32, BigInt(ctl), true);
    mv.setBigUint64(40, 24n, true);
    expect(call(SYS.sendmsg, a, msg, 0)).toBe(1);
    t.fds.close(pfd);
    // Receive into a fresh msghdr.
    const rdata = f.mem.alloc(4);
    const riov = f.mem.alloc(16);
    f.mem.view(riov, 16).setBigUint64(0, BigInt(rdata), true);
    f.mem.view(riov, 16).setBigUint64(8, 4n, true);
    const rctl = f.mem.alloc(24);
    const rmsg = f.mem.alloc(56);
    const rv = f.mem.view(rmsg, 56);
    rv.setBigUint64(16, BigInt(riov), true);
    rv.setBigUint64(24, 1n, true);
    rv.setBigUint64(32, BigInt(rctl), true);
    rv.setBigUint64(40, 24n, true);
    expect(await call(SYS.recvmsg, b, rmsg, 0)).toBe(1);
    const rc = f.mem.view(rctl, 24);
    expect(rc.getInt32(12, true)).toBe(1);
    const got = rc.getInt32(16, true);
    expect(t.fds.get(got)).toBe(write);
    expect(rv.getBigUint64(40, true)).toBe(24n);
    read.decRef();
  });

  it('connects to an abstract name and accepts', async () => {
    const l = call(SYS.socket, AF_UNIX, SOCK_STREAM, 0) as number;
    const { addr, len } = abstractAddr('unit-test');
    expect(call(SYS.listen, l, 4)).toBe(-E.EINVAL);
    expect(await call(SYS.bind, l, addr, len)).toBe(0);
    expect(call(SYS.listen, l, 4)).toBe(0);
    const c = call(SYS.socket, AF_UNIX, SOCK_STREAM, 0) as number;
    expect(await call(SYS.connect, c, addr, len)).toBe(0);
    const s = (await call(SYS.accept4, l, 0, 0, 0)) as number;
    expect(s).toBeGreaterThan(0);
    send(c, 'ping');
    expect(await recv(s, 8)).toBe('ping');
    const other = call(SYS.socket, AF_UNIX, SOCK_STREAM, 0) as number;
    const missing = abstractAddr('nobody-here');
    expect(await call(SYS.connect, other, missing.addr, missing.len)).toBe(-E.ECONNREFUSED);
  });

  it('reports the sender address of a datagram', async () => {
    const srv = call(SYS.socket, AF_UNIX, SOCK_DGRAM, 0) as number;
    const cli = call(SYS.socket, AF_UNIX, SOCK_DGRAM, 0) as number;
    const sa = abstractAddr('dsrv');
    const ca = abstractAddr('dcli');
    await call(SYS.bind, srv, sa.addr, sa.len);
    await call(SYS.bind, cli, ca.addr, ca.len);
    const b = f.mem.alloc(2);
    expect(await call(SYS.sendto, cli, b, 2, 0, sa.addr, sa.len)).toBe(2);
    const buf = f.mem.alloc(8);
    const from = f.mem.alloc(110);
    const fl = f.mem.alloc(4);
    f.mem.writeU32(fl, 110);
    expect(await call(SYS.recvfrom, srv, buf, 8, 0, from, fl)).toBe(2);
    expect(f.mem.readU32(fl)).toBe(ca.len);
    expect(f.mem.text(from + 3, ca.len - 3)).toBe('dcli');
  });

  it('rejects non-sockets and unknown families', () => {
    const { read } = createPipe();
    const fd = t.fds.install(read, {}) as number;
    read.decRef();
    expect(call(SYS.listen, fd, 1)).toBe(-E.ENOTSOCK);
    expect(call(SYS.socket, 12345, SOCK_STREAM, 0)).toBe(-E.EAFNOSUPPORT);
    expect(call(SYS.socket, AF_UNIX, 9, 0)).toBe(-E.ESOCKTNOSUPPORT);
  });
});
