// Socket syscalls: socket, socketpair, bind, listen, accept/accept4, connect, send*/recv*
// (with msghdr, iovecs and SCM_RIGHTS/SCM_CREDENTIALS control messages), shutdown,
// getsockname, getpeername, getsockopt, setsockopt. They decode user memory and call the
// SocketFile of the fd; the families live in sentry/socket.

import { rootId, vpid } from '../kernel/pid_namespace.js';
import { E } from '../abi/errno.js';
import type { SyscallArgs } from '../abi/regs.js';
import { err, isErr, type MaybePromise, type Result } from '../abi/result.js';
import { SYS } from '../abi/sysno.js';
import type { Task } from '../kernel/task.js';
import { fileOf, ioCtx } from '../vfs/at.js';
import { MAX_RW_COUNT, O } from '../vfs/constants.js';
import type { FileDescription } from '../vfs/file.js';
import { vfsHooks } from '../vfs/hooks.js';
import { AF, MSG, SCM, SCM_MAX_FD, SO, SOCK, SOL } from '../socket/constants.js';
import { socketFamily } from '../socket/factory.js';
import { credOf, releaseControl, SocketFile, type Control, type Received, type UCred } from '../socket/socket_file.js';
import { UnixSocket } from '../socket/unix/unix_socket.js';
import type { SyscallTable } from './types.js';
import { readTimespec } from './timespec.js';

/** sizeof(struct sockaddr_storage): the longest address a syscall accepts. */
const SOCKADDR_MAX = 128;
const IOV_MAX = 1024;
/** Largest kernel-side buffer one send or receive uses. */
const CHUNK = 1 << 20;
/** The most of a receive buffer one recvmsg fills (datagrams are far smaller). */
const RECV_MAX = 4 << 20;
const CMSG_HDR = 16;
const MSGHDR_SIZE = 56;
const MMSGHDR_SIZE = 64;
/** Linux caps the control buffer of sendmsg at net.core.optmem_max. */
const OPTMEM_MAX = 20480;
/** UIO_MAXIOV messages per sendmmsg/recvmmsg. */
const MMSG_MAX = 1024;

const cmsgAlign = (n: number): number => (n + 7) & ~7;

function then<T, U>(v: MaybePromise<T>, f: (x: T) => MaybePromise<U>): MaybePromise<U> {
  return v instanceof Promise ? v.then(f) : f(v);
}

function socketOf(t: Task, fd: number): Result<SocketFile> {
  const f = fileOf(t, fd);
  if (isErr(f)) return f;
  return f instanceof SocketFile ? f : err(E.ENOTSOCK);
}

function readSockaddr(t: Task, addr: number, len: number): Result<Uint8Array> {
  if (len < 0 || len > SOCKADDR_MAX) return err(E.EINVAL);
  if (len === 0) return new Uint8Array(0);
  return t.mem.copyIn(addr, len);
}

/** Stores an address at addr with its length at lenAddr (value-result, truncating). */
function writeSockaddr(t: Task, addr: number, lenAddr: number, sa: Uint8Array | null): Result<void> {
  if (addr === 0 || lenAddr === 0) return undefined;
  const len = t.mem.readU32(lenAddr);
  if (isErr(len)) return len;
  if ((len | 0) < 0) return err(E.EINVAL);
  const b = sa ?? new Uint8Array(0);
  if (b.length > 0 && len > 0) {
    const r = t.mem.copyOut(addr, b.subarray(0, Math.min(len, b.length)));
    if (isErr(r)) return r;
  }
  return t.mem.writeU32(lenAddr, b.length);
}

function sendCred(t: Task): UCred {
  return { pid: t.pid, uid: t.creds.uid, gid: t.creds.gid };
}

// ---- socket, socketpair ----

function splitType(type: number): Result<{ type: number; flags: number; cloexec: boolean }> {
  if ((type & ~(SOCK.TYPE_MASK | SOCK.NONBLOCK | SOCK.CLOEXEC)) !== 0) return err(E.EINVAL);
  return { type: type & SOCK.TYPE_MASK, flags: type & SOCK.NONBLOCK ? O.NONBLOCK : 0, cloexec: (type & SOCK.CLOEXEC) !== 0 };
}

function install(t: Task, f: FileDescription, cloexec: boolean): number {
  const fd = t.fds.install(f, { cloexec });
  f.decRef();
  return isErr(fd) ? -fd.errno : fd;
}

function sysSocket(t: Task, a: SyscallArgs): number {
  const domain = a.int(0);
  const ty = splitType(a.int(1));
  if (isErr(ty)) return -ty.errno;
  const fam = socketFamily(domain);
  if (fam === undefined) return -E.EAFNOSUPPORT;
  const s = fam.create(t, ty.type, a.int(2), ty.flags);
  if (isErr(s)) return -s.errno;
  return install(t, s, ty.cloexec);
}

function sysSocketpair(t: Task, a: SyscallArgs): number {
  const ty = splitType(a.int(1));
  if (isErr(ty)) return -ty.errno;
  const fam = socketFamily(a.int(0));
  if (fam === undefined) return -E.EAFNOSUPPORT;
  if (fam.pair === undefined) return -E.EOPNOTSUPP;
  const p = fam.pair(t, ty.type, a.int(2), ty.flags);
  if (isErr(p)) return -p.errno;
  const fd0 = install(t, p[0], ty.cloexec);
  if (fd0 < 0) {
    p[1].decRef();
    return fd0;
  }
  const fd1 = install(t, p[1], ty.cloexec);
  if (fd1 < 0) {
    t.fds.close(fd0);
    return fd1;
  }
  const out = new Uint8Array(8);
  const v = new DataView(out.buffer);
  v.setInt32(0, fd0, true);
  v.setInt32(4, fd1, true);
  const r = t.mem.copyOut(a.ptr(3), out);
  if (isErr(r)) {
    t.fds.close(fd0);
    t.fds.close(fd1);
    return -r.errno;
  }
  return 0;
}

// ---- bind, listen, accept, connect ----

function sysBind(t: Task, a: SyscallArgs): MaybePromise<number> {
  const s = socketOf(t, a.int(0));
  if (isErr(s)) return -s.errno;
  const sa = readSockaddr(t, a.ptr(1), a.int(2));
  if (isErr(sa)) return -sa.errno;
  return then(s.bind(t, sa), (r) => (isErr(r) ? -r.errno : 0));
}

function sysListen(t: Task, a: SyscallArgs): number {
  const s = socketOf(t, a.int(0));
  if (isErr(s)) return -s.errno;
  const r = s.listen(a.int(1));
  if (isErr(r)) return -r.errno;
  if (s instanceof UnixSocket) s.setListenCred(credOf(t));
  return 0;
}

function doAccept(t: Task, fd: number, addr: number, lenAddr: number, flags: number): MaybePromise<number> {
  if ((flags & ~(SOCK.NONBLOCK | SOCK.CLOEXEC)) !== 0) return -E.EINVAL;
  const s = socketOf(t, fd);
  if (isErr(s)) return -s.errno;
  const nb = flags & SOCK.NONBLOCK ? O.NONBLOCK : 0;
  return then(s.accept(nb, ioCtx(t)), (r) => {
    if (isErr(r)) return -r.errno;
    const w = writeSockaddr(t, addr, lenAddr, r.peer);
    if (isErr(w)) {
      r.file.decRef();
      return -w.errno;
    }
    return install(t, r.file, (flags & SOCK.CLOEXEC) !== 0);
  });
}

function sysConnect(t: Task, a: SyscallArgs): MaybePromise<number> {
  const s = socketOf(t, a.int(0));
  if (isErr(s)) return -s.errno;
  const sa = readSockaddr(t, a.ptr(1), a.int(2));
  if (isErr(sa)) return -sa.errno;
  return then(s.connect(t, sa, ioCtx(t)), (r) => (isErr(r) ? -r.errno : 0));
}

// ---- addresses and options ----

function nameCall(t: Task, a: SyscallArgs, peer: boolean): number {
  const s = socketOf(t, a.int(0));
  if (isErr(s)) return -s.errno;
  const sa = peer ? s.peername() : s.sockname();
  if (isErr(sa)) return -sa.errno;
  const w = writeSockaddr(t, a.ptr(1), a.ptr(2), sa);
  return isErr(w) ? -w.errno : 0;
}

function sysShutdown(t: Task, a: SyscallArgs): number {
  const s = socketOf(t, a.int(0));
  if (isErr(s)) return -s.errno;
  const r = s.shutdown(a.int(1));
  return isErr(r) ? -r.errno : 0;
}

function sysGetsockopt(t: Task, a: SyscallArgs): number {
  const s = socketOf(t, a.int(0));
  if (isErr(s)) return -s.errno;
  const lenAddr = a.ptr(4);
  const len = t.mem.readU32(lenAddr);
  if (isErr(len)) return -len.errno;
  if ((len | 0) < 0) return -E.EINVAL;
  const v = s.getsockopt(t, a.int(1), a.int(2));
  if (isErr(v)) return -v.errno;
  const n = Math.min(len, v.length);
  if (n > 0) {
    const r = t.mem.copyOut(a.ptr(3), v.subarray(0, n));
    if (isErr(r)) return -r.errno;
  }
  const w = t.mem.writeU32(lenAddr, n);
  return isErr(w) ? -w.errno : 0;
}

function sysSetsockopt(t: Task, a: SyscallArgs): number {
  const s = socketOf(t, a.int(0));
  if (isErr(s)) return -s.errno;
  const len = a.int(4);
  if (len < 0) return -E.EINVAL;
  const v = t.mem.copyIn(a.ptr(3), Math.min(len, 65536));
  if (isErr(v)) return -v.errno;
  const r = s.setsockopt(t, a.int(1), a.int(2), v);
  return isErr(r) ? -r.errno : 0;
}

// ---- data: iovecs and msghdr ----

interface Segments {
  addrs: number[];
  lens: number[];
  total: number;
}

function readIovec(t: Task, iov: number, cnt: number): Result<Segments> {
  if (cnt < 0 || cnt > IOV_MAX) return err(E.EMSGSIZE);
  const raw = t.mem.copyIn(iov, cnt * 16);
  if (isErr(raw)) return raw;
  const v = new DataView(raw.buffer, raw.byteOffset, raw.length);
  const s: Segments = { addrs: [], lens: [], total: 0 };
  for (let i = 0; i < cnt; i++) {
    const len = v.getBigUint64(i * 16 + 8, true);
    if (len > 0x7fffffffffffffffn) return err(E.EINVAL);
    const l = Math.min(Number(len), MAX_RW_COUNT - s.total);
    s.addrs.push(Number(v.getBigUint64(i * 16, true)));
    s.lens.push(l);
    s.total += l;
  }
  return s;
}

function gather(t: Task, s: Segments, pos: number, len: number): Result<Uint8Array> {
  const out = new Uint8Array(len);
  let off = 0;
  let skip = pos;
  for (let i = 0; i < s.lens.length && off < len; i++) {
    if (skip >= s.lens[i]) {
      skip -= s.lens[i];
      continue;
    }
    const n = Math.min(s.lens[i] - skip, len - off);
    const r = t.mem.readInto(s.addrs[i] + skip, out.subarray(off, off + n));
    if (isErr(r)) return r;
    off += n;
    skip = 0;
  }
  return out;
}

function scatter(t: Task, s: Segments, data: Uint8Array): Result<void> {
  let off = 0;
  for (let i = 0; i < s.lens.length && off < data.length; i++) {
    const n = Math.min(s.lens[i], data.length - off);
    const r = t.mem.copyOut(s.addrs[i], data.subarray(off, off + n));
    if (isErr(r)) return r;
    off += n;
  }
  return undefined;
}

/** Parses sendmsg's control buffer: SCM_RIGHTS (references taken) and SCM_CREDENTIALS. */
function readControl(t: Task, s: SocketFile, addr: number, len: number): Result<Control> {
  const c: Control = {};
  if (len === 0) return c;
  if (len > OPTMEM_MAX) return err(E.ENOBUFS);
  const raw = t.mem.copyIn(addr, len);
  if (isErr(raw)) return raw;
  const v = new DataView(raw.buffer, raw.byteOffset, raw.length);
  const fail = (e: number): Result<Control> => {
    releaseControl(c);
    return err(e);
  };
  for (let off = 0; off + CMSG_HDR <= len;) {
    const clen = Number(v.getBigUint64(off, true));
    if (clen < CMSG_HDR || clen > len - off) return fail(E.EINVAL);
    const level = v.getInt32(off + 8, true);
    const type = v.getInt32(off + 12, true);
    const body = raw.subarray(off + CMSG_HDR, off + clen);
    if (level === SOL.SOCKET) {
      if (s.family !== AF.UNIX) return fail(E.EINVAL);
      if (type === SCM.RIGHTS) {
        const n = Math.floor(body.length / 4);
        const have = c.rights?.length ?? 0;
        if (n === 0) {
          off += cmsgAlign(clen);
          continue;
        }
        if (have + n > SCM_MAX_FD) return fail(E.EINVAL);
        const bv = new DataView(body.buffer, body.byteOffset, body.length);
        const list = c.rights ?? [];
        c.rights = list;
        for (let i = 0; i < n; i++) {
          const f = t.fds.get(bv.getInt32(i * 4, true));
          if (f === undefined) return fail(E.EBADF);
          f.incRef();
          list.push(f);
        }
      } else if (type === SCM.CREDENTIALS) {
        if (body.length !== 12) return fail(E.EINVAL);
        const bv = new DataView(body.buffer, body.byteOffset, 12);
        const cr: UCred = { pid: bv.getInt32(0, true), uid: bv.getUint32(4, true), gid: bv.getUint32(8, true) };
        const me = t.creds;
        // Linux's scm_check_creds: your own ids unless privileged (the sandbox's root is).
        const privileged = me.euid === 0;
        const okPid = cr.pid === vpid(t, t.pid) || privileged;
        const okUid = privileged || cr.uid === me.uid || cr.uid === me.euid || cr.uid === me.suid;
        const okGid = privileged || cr.gid === me.gid || cr.gid === me.egid || cr.gid === me.sgid;
        if (!okPid || !okUid || !okGid) return fail(E.EPERM);
        // Kept as a root-namespace id; the receiver sees it in its own namespace.
        c.creds = { ...cr, pid: cr.pid > 0 ? rootId(t, cr.pid) ?? 0 : cr.pid };
      } else {
        return fail(E.EINVAL);
      }
    }
    off += cmsgAlign(clen);
  }
  return c;
}

/** Writes received control data as cmsgs (creds if SO_PASSCRED, protocol ones, then fds); returns used length and MSG_CTRUNC. */
function writeControl(t: Task, s: SocketFile, addr: number, cap: number, c: Control, flags: number): Result<{ used: number; ctrunc: boolean }> {
  const out = new Uint8Array(Math.max(0, cap));
  const v = new DataView(out.buffer);
  let off = 0;
  let ctrunc = false;
  const rights = c.rights ?? [];
  c.rights = undefined;
  const wantCreds = s.family === AF.UNIX && s.flag(SO.PASSCRED) && c.creds !== undefined;
  if (wantCreds && c.creds !== undefined) {
    const full = CMSG_HDR + 12;
    if (cap - off < CMSG_HDR) ctrunc = true;
    else {
      const body = new Uint8Array(12);
      const bv = new DataView(body.buffer);
      bv.setInt32(0, c.creds.pid > 0 ? vpid(t, c.creds.pid) : c.creds.pid, true);
      bv.setUint32(4, c.creds.uid, true);
      bv.setUint32(8, c.creds.gid, true);
      const n = Math.min(full, cap - off);
      if (n < full) ctrunc = true;
      v.setBigUint64(off, BigInt(n), true);
      v.setInt32(off + 8, SOL.SOCKET, true);
      v.setInt32(off + 12, SCM.CREDENTIALS, true);
      out.set(body.subarray(0, n - CMSG_HDR), off + CMSG_HDR);
      off += Math.min(cmsgAlign(full), cap - off);
    }
  }
  for (const m of c.proto ?? []) {
    const full = CMSG_HDR + m.data.length;
    if (cap - off < full) {
      ctrunc = true;
      break;
    }
    v.setBigUint64(off, BigInt(full), true);
    v.setInt32(off + 8, m.level, true);
    v.setInt32(off + 12, m.type, true);
    out.set(m.data, off + CMSG_HDR);
    off += Math.min(cmsgAlign(full), cap - off);
  }
  if (rights.length > 0) {
    const room = cap - off > CMSG_HDR ? Math.floor((cap - off - CMSG_HDR) / 4) : 0;
    const k = Math.min(room, rights.length);
    const cloexec = (flags & MSG.CMSG_CLOEXEC) !== 0;
    let installed = 0;
    for (let i = 0; i < k; i++) {
      const fd = t.fds.install(rights[i], { cloexec });
      if (isErr(fd)) break;
      v.setInt32(off + CMSG_HDR + i * 4, fd, true);
      installed++;
    }
    if (installed < rights.length) ctrunc = true;
    if (installed > 0) {
      const clen = CMSG_HDR + installed * 4;
      v.setBigUint64(off, BigInt(clen), true);
      v.setInt32(off + 8, SOL.SOCKET, true);
      v.setInt32(off + 12, SCM.RIGHTS, true);
      off += Math.min(cmsgAlign(clen), cap - off);
    }
    for (const f of rights) f.decRef();
  }
  if (off > 0) {
    const r = t.mem.copyOut(addr, out.subarray(0, off));
    if (isErr(r)) return r;
  }
  return { used: off, ctrunc };
}

interface MsgHdr {
  name: number;
  namelen: number;
  iov: Segments;
  control: number;
  controllen: number;
}

function readMsghdr(t: Task, addr: number): Result<MsgHdr> {
  const raw = t.mem.copyIn(addr, MSGHDR_SIZE);
  if (isErr(raw)) return raw;
  const v = new DataView(raw.buffer, raw.byteOffset, MSGHDR_SIZE);
  const iovlen = v.getBigUint64(24, true);
  if (iovlen > BigInt(IOV_MAX)) return err(E.EMSGSIZE);
  const iov = readIovec(t, Number(v.getBigUint64(16, true)), Number(iovlen));
  if (isErr(iov)) return iov;
  const controllen = v.getBigUint64(40, true);
  return {
    name: Number(v.getBigUint64(0, true)),
    namelen: v.getInt32(8, true),
    iov,
    control: Number(v.getBigUint64(32, true)),
    controllen: controllen > 0x7fffffffn ? 0x7fffffff : Number(controllen),
  };
}

/** One send: data from the segments, to an optional address, with control data. */
function doSend(t: Task, s: SocketFile, seg: Segments, to: Uint8Array | null, control: Control, flags: number): MaybePromise<number> {
  const ctx = ioCtx(t);
  const stream = s.type === SOCK.STREAM;
  let done = 0;
  let ctl: Control = control;
  const onErr = (e: number): number => {
    if (e === E.EPIPE && (flags & MSG.NOSIGNAL) === 0) vfsHooks.onEpipe(t);
    return done > 0 ? done : -e;
  };
  const step = (): MaybePromise<number> => {
    // Messages go whole; a stream goes in chunks so a huge send never copies all at once.
    const want = stream ? Math.min(CHUNK, seg.total - done) : seg.total;
    const buf = gather(t, seg, done, want);
    if (isErr(buf)) {
      releaseControl(ctl);
      return done > 0 ? done : -buf.errno;
    }
    const c = ctl;
    ctl = {};
    const r = s.sendmsg({ data: buf, to, control: c, flags, cred: sendCred(t), task: t }, ctx);
    return then(r, (n) => {
      if (isErr(n)) return onErr(n.errno);
      done += n;
      if (!stream || n < want || done >= seg.total) return done;
      return step();
    });
  };
  return step();
}

function sysSendto(t: Task, a: SyscallArgs): MaybePromise<number> {
  const s = socketOf(t, a.int(0));
  if (isErr(s)) return -s.errno;
  const len = Math.min(a.size(2), MAX_RW_COUNT);
  let to: Uint8Array | null = null;
  if (a.ptr(4) !== 0) {
    const sa = readSockaddr(t, a.ptr(4), a.int(5));
    if (isErr(sa)) return -sa.errno;
    to = sa;
  }
  return doSend(t, s, { addrs: [a.ptr(1)], lens: [len], total: len }, to, {}, a.int(3));
}

function sendOne(t: Task, s: SocketFile, msgAddr: number, flags: number): MaybePromise<number> {
  const m = readMsghdr(t, msgAddr);
  if (isErr(m)) return -m.errno;
  let to: Uint8Array | null = null;
  if (m.name !== 0 && m.namelen !== 0) {
    const sa = readSockaddr(t, m.name, m.namelen);
    if (isErr(sa)) return -sa.errno;
    to = sa;
  }
  const c = readControl(t, s, m.control, m.control === 0 ? 0 : m.controllen);
  if (isErr(c)) return -c.errno;
  return doSend(t, s, m.iov, to, c, flags);
}

function sysSendmsg(t: Task, a: SyscallArgs): MaybePromise<number> {
  const s = socketOf(t, a.int(0));
  if (isErr(s)) return -s.errno;
  return sendOne(t, s, a.ptr(1), a.int(2));
}

/** sendmmsg: sends up to vlen messages, storing each msg_len; stops at the first error. */
async function sysSendmmsg(t: Task, a: SyscallArgs): Promise<number> {
  const s = socketOf(t, a.int(0));
  if (isErr(s)) return -s.errno;
  const vec = a.ptr(1);
  const vlen = Math.min(a.uint(2), MMSG_MAX);
  const flags = a.int(3);
  let i = 0;
  for (; i < vlen; i++) {
    const r = await sendOne(t, s, vec + i * MMSGHDR_SIZE, flags);
    if (r < 0) return i > 0 ? i : r;
    const w = t.mem.writeU32(vec + i * MMSGHDR_SIZE + MSGHDR_SIZE, r);
    if (isErr(w)) return i > 0 ? i : -w.errno;
  }
  return i;
}

/** Receives one message into the segments; returns the byte count and what else came. */
function doRecv(t: Task, s: SocketFile, seg: Segments, flags: number): MaybePromise<Result<Received>> {
  // No socket here queues extended errors (IP_RECVERR), so the error queue is always empty.
  if ((flags & MSG.ERRQUEUE) !== 0) return err(E.EAGAIN);
  const buf = new Uint8Array(Math.min(seg.total, RECV_MAX));
  return then(s.recvmsg(buf, flags, ioCtx(t)), (r) => {
    if (isErr(r) || r.discard === true) return r;
    const c = scatter(t, seg, buf.subarray(0, r.n));
    if (isErr(c)) {
      releaseControl(r.control);
      return c;
    }
    return r;
  });
}

/** The value recv* returns: MSG_TRUNC asks a message socket for the real length. */
function recvRet(s: SocketFile, r: Received, flags: number): number {
  return (flags & MSG.TRUNC) !== 0 && s.type !== SOCK.STREAM ? r.full : r.n;
}

function sysRecvfrom(t: Task, a: SyscallArgs): MaybePromise<number> {
  const s = socketOf(t, a.int(0));
  if (isErr(s)) return -s.errno;
  const len = Math.min(a.size(2), MAX_RW_COUNT);
  const flags = a.int(3);
  return then(doRecv(t, s, { addrs: [a.ptr(1)], lens: [len], total: len }, flags), (r) => {
    if (isErr(r)) return -r.errno;
    releaseControl(r.control);
    const w = writeSockaddr(t, a.ptr(4), a.ptr(5), r.from);
    if (isErr(w)) return -w.errno;
    return recvRet(s, r, flags);
  });
}

function recvOne(t: Task, s: SocketFile, msgAddr: number, flags: number): MaybePromise<number> {
  const m = readMsghdr(t, msgAddr);
  if (isErr(m)) return -m.errno;
  // Checked before receiving: a bad header must not consume a message.
  if (m.namelen < 0) return -E.EINVAL;
  return then(doRecv(t, s, m.iov, flags), (r) => {
    if (isErr(r)) return -r.errno;
    const hdr = new Uint8Array(MSGHDR_SIZE);
    const hv = new DataView(hdr.buffer);
    let namelen = 0;
    if (m.name !== 0 && r.from !== null) {
      const n = Math.min(m.namelen, r.from.length);
      const w = t.mem.copyOut(m.name, r.from.subarray(0, n));
      if (isErr(w)) return -w.errno;
      namelen = r.from.length;
    }
    let mflags = r.flags;
    let used = 0;
    if (m.control !== 0) {
      const wc = writeControl(t, s, m.control, m.controllen, r.control, flags);
      if (isErr(wc)) return -wc.errno;
      used = wc.used;
      if (wc.ctrunc) mflags |= MSG.CTRUNC;
    } else {
      const hadRights = (r.control.rights?.length ?? 0) > 0;
      const wantCreds = s.family === AF.UNIX && s.flag(SO.PASSCRED) && r.control.creds !== undefined;
      if (hadRights || wantCreds) mflags |= MSG.CTRUNC;
      releaseControl(r.control);
    }
    // Write back msg_namelen, msg_controllen and msg_flags.
    const w1 = t.mem.writeU32(msgAddr + 8, namelen);
    if (isErr(w1)) return -w1.errno;
    hv.setBigUint64(0, BigInt(used), true);
    const w2 = t.mem.copyOut(msgAddr + 40, hdr.subarray(0, 8));
    if (isErr(w2)) return -w2.errno;
    const w3 = t.mem.writeU32(msgAddr + 48, mflags);
    if (isErr(w3)) return -w3.errno;
    return recvRet(s, r, flags);
  });
}

function sysRecvmsg(t: Task, a: SyscallArgs): MaybePromise<number> {
  const s = socketOf(t, a.int(0));
  if (isErr(s)) return -s.errno;
  return recvOne(t, s, a.ptr(1), a.int(2));
}

/**
 * recvmmsg: the first message may wait (unless MSG_DONTWAIT); MSG_WAITFORONE makes the rest
 * non-blocking. The timeout, as in Linux, is only checked after each message arrives.
 */
async function sysRecvmmsg(t: Task, a: SyscallArgs): Promise<number> {
  const s = socketOf(t, a.int(0));
  if (isErr(s)) return -s.errno;
  const vec = a.ptr(1);
  const vlen = Math.min(a.uint(2), MMSG_MAX);
  let flags = a.int(3);
  let deadline = Infinity;
  if (a.ptr(4) !== 0) {
    const ns = readTimespec(t, a.ptr(4));
    if (typeof ns === 'number') return ns;
    deadline = performance.now() + Number(ns) / 1e6;
  }
  let i = 0;
  for (; i < vlen; i++) {
    const r = await recvOne(t, s, vec + i * MMSGHDR_SIZE, flags & ~MSG.WAITFORONE);
    if (r < 0) return i > 0 ? i : r;
    const w = t.mem.writeU32(vec + i * MMSGHDR_SIZE + MSGHDR_SIZE, r);
    if (isErr(w)) return i > 0 ? i : -w.errno;
    if ((flags & MSG.WAITFORONE) !== 0) flags |= MSG.DONTWAIT;
    if (performance.now() >= deadline) return i + 1;
  }
  return i;
}

export const socketSyscalls: SyscallTable = {
  [SYS.socket]: sysSocket,
  [SYS.socketpair]: sysSocketpair,
  [SYS.bind]: sysBind,
  [SYS.listen]: sysListen,
  [SYS.accept]: (t, a) => doAccept(t, a.int(0), a.ptr(1), a.ptr(2), 0),
  [SYS.accept4]: (t, a) => doAccept(t, a.int(0), a.ptr(1), a.ptr(2), a.int(3)),
  [SYS.connect]: sysConnect,
  [SYS.getsockname]: (t, a) => nameCall(t, a, false),
  [SYS.getpeername]: (t, a) => nameCall(t, a, true),
  [SYS.shutdown]: sysShutdown,
  [SYS.getsockopt]: sysGetsockopt,
  [SYS.setsockopt]: sysSetsockopt,
  [SYS.sendto]: sysSendto,
  [SYS.recvfrom]: sysRecvfrom,
  [SYS.sendmsg]: sysSendmsg,
  [SYS.recvmsg]: sysRecvmsg,
  [SYS.sendmmsg]: sysSendmmsg,
  [SYS.recvmmsg]: sysRecvmmsg,
};
