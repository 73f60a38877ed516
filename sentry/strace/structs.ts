// Decoders for structs that syscalls pass by pointer (x86-64 layouts). Each reads app memory
// through AppMemory and returns undefined when any byte is unreadable, so the caller prints
// the raw address instead.

import { isErr } from '../abi/result.js';
import type { AppMemory } from '../mm/app_memory.js';
import {
  AF, AF_INET, AF_INET6, AF_NETLINK, AF_UNIX, EPOLL_EVENTS, POLL_EVENTS, SA_FLAGS, SS_FLAGS,
  cloneFlags, enumOf, fileMode, flagsOf, openFlags, RESOLVE_FLAGS, signalName, sigset,
} from './flags.js';
import { hex, octal, ptr, quoteBytes, quoteString } from './format.js';

export interface Limits {
  /** Bytes of a data buffer shown before "...". */
  readonly buf: number;
  /** Characters of a string shown before "...". */
  readonly str: number;
}

/** How many array elements are shown before "...". */
const MAX_ELEMS = 16;

export function view(mem: AppMemory, addr: number, len: number): DataView | undefined {
  const b = mem.copyIn(addr, len);
  if (isErr(b)) return undefined;
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function u64(d: DataView, off: number): bigint {
  return d.getBigUint64(off, true);
}
function i64(d: DataView, off: number): string {
  return d.getBigInt64(off, true).toString();
}

/** A data buffer: its first `limits.buf` bytes, quoted. */
export function buffer(mem: AppMemory, addr: number, len: number, limits: Limits): string | undefined {
  const n = Math.max(0, Math.min(len, limits.buf));
  const b = mem.copyIn(addr, n);
  if (isErr(b)) return undefined;
  return quoteBytes(b, len > n);
}

/** A NUL-terminated string, cut at limits.str characters. */
export function cstring(mem: AppMemory, addr: number, limits: Limits): string | undefined {
  const s = mem.readCString(addr, limits.str);
  if (!isErr(s)) return quoteString(s, limits.str);
  // Longer than the limit (ENAMETOOLONG): show the prefix.
  const b = mem.copyIn(addr, limits.str);
  if (isErr(b)) return undefined;
  return quoteBytes(b, true);
}

function timespecAt(d: DataView, off: number): string {
  return `{tv_sec=${i64(d, off)}, tv_nsec=${i64(d, off + 8)}}`;
}
function timevalAt(d: DataView, off: number): string {
  return `{tv_sec=${i64(d, off)}, tv_usec=${i64(d, off + 8)}}`;
}

export function timespec(mem: AppMemory, addr: number): string | undefined {
  const d = view(mem, addr, 16);
  return d && timespecAt(d, 0);
}

export function timeval(mem: AppMemory, addr: number): string | undefined {
  const d = view(mem, addr, 16);
  return d && timevalAt(d, 0);
}

export function itimerspec(mem: AppMemory, addr: number): string | undefined {
  const d = view(mem, addr, 32);
  return d && `{it_interval=${timespecAt(d, 0)}, it_value=${timespecAt(d, 16)}}`;
}

export function itimerval(mem: AppMemory, addr: number): string | undefined {
  const d = view(mem, addr, 32);
  return d && `{it_interval=${timevalAt(d, 0)}, it_value=${timevalAt(d, 16)}}`;
}

/** utimensat's two timespecs, with UTIME_NOW / UTIME_OMIT named. */
export function utimens(mem: AppMemory, addr: number): string | undefined {
  const d = view(mem, addr, 32);
  if (!d) return undefined;
  const one = (off: number): string => {
    const ns = d.getBigInt64(off + 8, true);
    if (ns === 0x3fffffffn) return 'UTIME_NOW';
    if (ns === 0x3ffffffen) return 'UTIME_OMIT';
    return timespecAt(d, off);
  };
  return `[${one(0)}, ${one(16)}]`;
}

/** struct stat, summarized: the fields people look at. */
export function stat(mem: AppMemory, addr: number): string | undefined {
  const d = view(mem, addr, 144);
  if (!d) return undefined;
  const mode = d.getUint32(24, true);
  const type = mode & 0o170000;
  const dev = type === 0o20000 || type === 0o60000 ? `, rdev=${hex(u64(d, 40))}` : '';
  return `{dev=${hex(u64(d, 0))}, ino=${u64(d, 8)}, mode=${fileMode(mode)}, nlink=${u64(d, 16)}, ` +
    `uid=${d.getUint32(28, true)}, gid=${d.getUint32(32, true)}${dev}, size=${i64(d, 48)}, ` +
    `blksize=${i64(d, 56)}, blocks=${i64(d, 64)}}`;
}

/** struct statx, summarized. */
export function statx(mem: AppMemory, addr: number): string | undefined {
  const d = view(mem, addr, 144);
  if (!d) return undefined;
  return `{mask=${hex(d.getUint32(0, true))}, mode=${fileMode(d.getUint16(28, true))}, ` +
    `ino=${u64(d, 32)}, size=${u64(d, 40)}, nlink=${d.getUint32(16, true)}, ` +
    `uid=${d.getUint32(20, true)}, gid=${d.getUint32(24, true)}, ` +
    `dev=${d.getUint32(136, true)}:${d.getUint32(140, true)}}`;
}

/** n C ints: "[3, 4]" (pipe fds, socketpair, getresuid). */
export function ints(mem: AppMemory, addr: number, n: number, unsigned = false): string | undefined {
  const d = view(mem, addr, 4 * n);
  if (!d) return undefined;
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(String(unsigned ? d.getUint32(i * 4, true) : d.getInt32(i * 4, true)));
  return `[${out.join(', ')}]`;
}

export function u64HexAt(mem: AppMemory, addr: number): string | undefined {
  const d = view(mem, addr, 8);
  return d && `[${hex(u64(d, 0))}]`;
}

export function longAt(mem: AppMemory, addr: number): string | undefined {
  const d = view(mem, addr, 8);
  return d && `[${i64(d, 0)}]`;
}

export function sigsetAt(mem: AppMemory, addr: number): string | undefined {
  const d = view(mem, addr, 8);
  return d && sigset(u64(d, 0));
}

function handlerName(h: bigint): string {
  if (h === 0n) return 'SIG_DFL';
  if (h === 1n) return 'SIG_IGN';
  return hex(h);
}

/** The kernel's struct sigaction (handler, flags, restorer, mask). */
export function sigaction(mem: AppMemory, addr: number): string | undefined {
  const d = view(mem, addr, 32);
  if (!d) return undefined;
  const flags = u64(d, 8);
  const restorer = (flags & 0x04000000n) !== 0n ? `, sa_restorer=${hex(u64(d, 16))}` : '';
  return `{sa_handler=${handlerName(u64(d, 0))}, sa_mask=${sigset(u64(d, 24))}, ` +
    `sa_flags=${flagsOf(SA_FLAGS, flags)}${restorer}}`;
}

export function stackT(mem: AppMemory, addr: number): string | undefined {
  const d = view(mem, addr, 24);
  if (!d) return undefined;
  return `{ss_sp=${ptr(u64(d, 0))}, ss_flags=${flagsOf(SS_FLAGS, BigInt(d.getUint32(8, true)))}, ` +
    `ss_size=${u64(d, 16)}}`;
}

function rlim(v: bigint): string {
  return v === 0xffffffffffffffffn ? 'RLIM_INFINITY' : v.toString();
}

export function rlimit(mem: AppMemory, addr: number): string | undefined {
  const d = view(mem, addr, 16);
  return d && `{rlim_cur=${rlim(u64(d, 0))}, rlim_max=${rlim(u64(d, 8))}}`;
}

export function winsize(mem: AppMemory, addr: number): string | undefined {
  const d = view(mem, addr, 8);
  if (!d) return undefined;
  return `{ws_row=${d.getUint16(0, true)}, ws_col=${d.getUint16(2, true)}, ` +
    `ws_xpixel=${d.getUint16(4, true)}, ws_ypixel=${d.getUint16(6, true)}}`;
}

function fixedString(d: DataView, off: number, max: number): string {
  const b = new Uint8Array(d.buffer, d.byteOffset + off, max);
  const end = b.indexOf(0);
  return quoteBytes(end < 0 ? b : b.subarray(0, end), false);
}

export function utsname(mem: AppMemory, addr: number): string | undefined {
  const d = view(mem, addr, 65 * 6);
  if (!d) return undefined;
  const f = (i: number): string => fixedString(d, 65 * i, 65);
  return `{sysname=${f(0)}, nodename=${f(1)}, release=${f(2)}, version=${f(3)}, machine=${f(4)}}`;
}

function ipv6(b: Uint8Array): string {
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((b[i] << 8) | b[i + 1]);
  // Compress the longest run of zero groups (two or more) as "::".
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const h = g.map((x) => x.toString(16));
  if (best < 0) return h.join(':');
  return h.slice(0, best).join(':') + '::' + h.slice(best + bestLen).join(':');
}

/** A socket address: {AF_INET, 127.0.0.1:80}, {AF_INET6, [::1]:443}, {AF_UNIX, "/run/x"}. */
export function sockaddr(mem: AppMemory, addr: number, len: number, limits: Limits): string | undefined {
  if (len < 2) return len === 0 ? '{}' : undefined;
  const n = Math.min(len, 128);
  const b = mem.copyIn(addr, n);
  if (isErr(b)) return undefined;
  const d = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const fam = d.getUint16(0, true);
  const name = enumOf(AF, fam);
  if (fam === AF_INET && n >= 8) {
    return `{${name}, ${b[4]}.${b[5]}.${b[6]}.${b[7]}:${d.getUint16(2, false)}}`;
  }
  if (fam === AF_INET6 && n >= 24) {
    return `{${name}, [${ipv6(b.subarray(8, 24))}]:${d.getUint16(2, false)}}`;
  }
  if (fam === AF_UNIX) {
    const path = b.subarray(2);
    if (path.length === 0) return `{${name}}`;
    if (path[0] === 0) return `{${name}, @${quoteBytes(path.subarray(1, Math.min(path.length, 1 + limits.str)), path.length > 1 + limits.str)}}`;
    const end = path.indexOf(0);
    return `{${name}, ${quoteBytes(end < 0 ? path : path.subarray(0, end), false)}}`;
  }
  if (fam === AF_NETLINK && n >= 12) {
    return `{${name}, pid=${d.getUint32(4, true)}, groups=${hex(d.getUint32(8, true))}}`;
  }
  return `{${name}}`;
}

/** pollfd array; withRevents at exit. */
export function pollfds(mem: AppMemory, addr: number, n: number, withRevents: boolean): string | undefined {
  const shown = Math.min(n, MAX_ELEMS);
  const d = view(mem, addr, 8 * shown);
  if (!d) return undefined;
  const out: string[] = [];
  for (let i = 0; i < shown; i++) {
    const ev = flagsOf(POLL_EVENTS, BigInt(d.getUint16(i * 8 + 4, true)));
    const rv = d.getUint16(i * 8 + 6, true);
    const r = withRevents && rv !== 0 ? `, revents=${flagsOf(POLL_EVENTS, BigInt(rv))}` : '';
    out.push(`{fd=${d.getInt32(i * 8, true)}, events=${ev}${r}}`);
  }
  return `[${out.join(', ')}${n > shown ? ', ...' : ''}]`;
}

/** struct epoll_event is packed on x86-64: u32 events then u64 data, 12 bytes. */
export function epollEvents(mem: AppMemory, addr: number, n: number): string | undefined {
  const shown = Math.min(n, MAX_ELEMS);
  const d = view(mem, addr, 12 * shown);
  if (!d) return undefined;
  const out: string[] = [];
  for (let i = 0; i < shown; i++) {
    out.push(`{events=${flagsOf(EPOLL_EVENTS, BigInt(d.getUint32(i * 12, true)))}, data=${hex(u64(d, i * 12 + 4))}}`);
  }
  return `[${out.join(', ')}${n > shown ? ', ...' : ''}]`;
}

/**
 * An iovec array with the bytes of each element; `total` caps how many bytes the elements
 * hold in all (the return value of readv; Infinity for writev's input).
 */
export function iovecs(mem: AppMemory, addr: number, n: number, total: number, limits: Limits): string | undefined {
  if (n < 0) return undefined;
  const shown = Math.min(n, MAX_ELEMS);
  const d = view(mem, addr, 16 * shown);
  if (!d) return undefined;
  const out: string[] = [];
  let left = total;
  for (let i = 0; i < shown; i++) {
    const base = u64(d, i * 16);
    const len = u64(d, i * 16 + 8);
    const avail = Math.max(0, Math.min(Number(len), left));
    left -= avail;
    const a = base > 0n && base <= 0x7fffffffffffn ? Number(base) : undefined;
    const data = a !== undefined ? buffer(mem, a, avail, limits) : undefined;
    out.push(`{iov_base=${data ?? ptr(base)}, iov_len=${len}}`);
  }
  return `[${out.join(', ')}${n > shown ? ', ...' : ''}]`;
}

/** struct msghdr; `total` as for iovecs (the bytes received, or Infinity when sending). */
export function msghdr(mem: AppMemory, addr: number, total: number, limits: Limits): string | undefined {
  const d = view(mem, addr, 56);
  if (!d) return undefined;
  const name = u64(d, 0);
  const namelen = d.getUint32(8, true);
  const iov = u64(d, 16);
  const iovlen = u64(d, 24);
  const na = name > 0n && name <= 0x7fffffffffffn ? Number(name) : undefined;
  const nameStr = na !== undefined ? sockaddr(mem, na, namelen, limits) ?? hex(name) : ptr(name);
  const ia = iov > 0n && iov <= 0x7fffffffffffn ? Number(iov) : undefined;
  const iovStr = ia !== undefined && iovlen <= 1024n ? iovecs(mem, ia, Number(iovlen), total, limits) ?? hex(iov) : ptr(iov);
  return `{msg_name=${nameStr}, msg_namelen=${namelen}, msg_iov=${iovStr}, msg_iovlen=${iovlen}, ` +
    `msg_control=${ptr(u64(d, 32))}, msg_controllen=${u64(d, 40)}, msg_flags=${hex(d.getUint32(48, true))}}`;
}

const DT = ['DT_UNKNOWN', 'DT_FIFO', 'DT_CHR', '3', 'DT_DIR', '5', 'DT_BLK', '7', 'DT_REG', '9', 'DT_LNK', '11', 'DT_SOCK'];

/** getdents64 output: the names, then a count. */
export function dirents64(mem: AppMemory, addr: number, len: number, limits: Limits): string | undefined {
  const b = mem.copyIn(addr, Math.min(len, 65536));
  if (isErr(b)) return undefined;
  const d = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: string[] = [];
  let count = 0;
  for (let off = 0; off + 19 <= b.length;) {
    const reclen = d.getUint16(off + 16, true);
    if (reclen < 20 || off + reclen > b.length) break;
    if (count < MAX_ELEMS) {
      const type = DT[b[off + 18]] ?? String(b[off + 18]);
      const nameBytes = b.subarray(off + 19, off + reclen);
      const end = nameBytes.indexOf(0);
      const nm = end < 0 ? nameBytes : nameBytes.subarray(0, end);
      out.push(`{d_ino=${u64(d, off)}, d_type=${type}, d_name=${quoteBytes(nm.subarray(0, limits.str), nm.length > limits.str)}}`);
    }
    count++;
    off += reclen;
  }
  return `[${out.join(', ')}${count > out.length ? ', ...' : ''}] /* ${count} entries */`;
}

/** An fd_set limited to nfds bits: "[0 3 5]". */
export function fdset(mem: AppMemory, addr: number, nfds: number): string | undefined {
  const n = Math.max(0, Math.min(nfds, 1024));
  const b = mem.copyIn(addr, Math.ceil(n / 64) * 8);
  if (isErr(b)) return undefined;
  const fds: number[] = [];
  for (let i = 0; i < n; i++) if (b[i >> 3] & (1 << (i & 7))) fds.push(i);
  return `[${fds.join(' ')}]`;
}

/** A wait status the way strace writes it. */
export function waitStatus(mem: AppMemory, addr: number): string | undefined {
  const d = view(mem, addr, 4);
  if (!d) return undefined;
  const s = d.getInt32(0, true);
  const sig = s & 0x7f;
  if (s === 0xffff) return '[{WIFCONTINUED(s)}]';
  if ((s & 0xff) === 0x7f) return `[{WIFSTOPPED(s) && WSTOPSIG(s) == ${signalName((s >> 8) & 0xff)}}]`;
  if (sig === 0) return `[{WIFEXITED(s) && WEXITSTATUS(s) == ${(s >> 8) & 0xff}}]`;
  return `[{WIFSIGNALED(s) && WTERMSIG(s) == ${signalName(sig)}${s & 0x80 ? ' && WCOREDUMP(s)' : ''}}]`;
}

const CLD_CODES = ['0', 'CLD_EXITED', 'CLD_KILLED', 'CLD_DUMPED', 'CLD_TRAPPED', 'CLD_STOPPED', 'CLD_CONTINUED'];

/** siginfo_t as waitid fills it. */
export function siginfoChild(mem: AppMemory, addr: number): string | undefined {
  const d = view(mem, addr, 28);
  if (!d) return undefined;
  const signo = d.getInt32(0, true);
  if (signo === 0) return '{}';
  const code = d.getInt32(8, true);
  const status = d.getInt32(24, true);
  const st = code === 2 || code === 3 || code === 5 || code === 4 ? signalName(status) : String(status);
  return `{si_signo=${signalName(signo)}, si_code=${CLD_CODES[code] ?? code}, si_pid=${d.getInt32(16, true)}, ` +
    `si_uid=${d.getUint32(20, true)}, si_status=${st}}`;
}

/** struct clone_args (clone3). */
export function cloneArgs(mem: AppMemory, addr: number, size: number): string | undefined {
  const d = view(mem, addr, Math.min(Math.max(size, 64), 88));
  if (!d) return undefined;
  return `{flags=${cloneFlags(u64(d, 0), false)}, pidfd=${ptr(u64(d, 8))}, child_tid=${ptr(u64(d, 16))}, ` +
    `parent_tid=${ptr(u64(d, 24))}, exit_signal=${signalName(Number(u64(d, 32)))}, stack=${ptr(u64(d, 40))}, ` +
    `stack_size=${hex(u64(d, 48))}, tls=${ptr(u64(d, 56))}}`;
}

/** struct open_how (openat2). */
export function openHow(mem: AppMemory, addr: number): string | undefined {
  const d = view(mem, addr, 24);
  if (!d) return undefined;
  return `{flags=${openFlags(u64(d, 0))}, mode=${octal(Number(u64(d, 8) & 0xffffn))}, ` +
    `resolve=${flagsOf(RESOLVE_FLAGS, u64(d, 16))}}`;
}

/** An array of n u32 ids (getgroups/setgroups). */
export function idList(mem: AppMemory, addr: number, n: number): string | undefined {
  const shown = Math.max(0, Math.min(n, MAX_ELEMS * 4));
  const r = ints(mem, addr, shown, true);
  if (r === undefined || n <= shown) return r;
  return r.slice(0, -1) + ', ...]';
}
