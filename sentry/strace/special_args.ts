// Arguments whose meaning depends on another argument: fcntl's third argument on its
// command, ioctl's on the request, futex's on the op, socket options on the level.

import {
  AF_INET, AF_INET6, ARCH_PRCTL, F, FD_FLAGS, IOC, IPPROTO, PRCTL,
  PR_GET_NAME, PR_SET_NAME, SEALS, SOCK_FLAG_BITS, SOCKOPT, SOL, enumOf, flagsOf, futexCmd, openFlags, signalName,
} from './flags.js';
import { addrOf, hex, int32, ptr, uint32 } from './format.js';
import { deref, succeeded, type ArgFmt, type DecodeCtx, type RetFmt } from './args.js';
import { buffer, cstring, ints, sockaddr, timespec, u64HexAt, view, winsize } from './structs.js';

// ---- fcntl -------------------------------------------------------------------------------

/** fcntl's third argument, left out for the F_GET* commands that take none. */
export const fcntlArg: ArgFmt = {
  enter: (c, v) => {
    switch (int32(c.args[1])) {
      case F.DUPFD: case F.DUPFD_CLOEXEC: return String(int32(v));
      case F.SETFD: return flagsOf(FD_FLAGS, BigInt(uint32(v)));
      case F.SETFL: return openFlags(BigInt(uint32(v)));
      case F.SETSIG: return signalName(int32(v));
      case F.ADD_SEALS: return flagsOf(SEALS, BigInt(uint32(v)));
      case F.GETLK: case F.SETLK: case F.SETLKW:
      case F.OFD_GETLK: case F.OFD_SETLK: case F.OFD_SETLKW: return ptr(v);
      case F.GETFD: case F.GETFL: case F.GETSIG: case F.GET_SEALS: case 9 /* F_GETOWN */:
      case 1025 /* F_GETLEASE */: case 1032 /* F_GETPIPE_SZ */: return '';
    }
    return hex(v);
  },
};

export const fcntlRet: RetFmt = (c, r) => {
  switch (int32(c.args[1])) {
    case F.GETFD: return flagsOf(FD_FLAGS, BigInt(r));
    case F.GETFL: return `${r} (flags ${openFlags(BigInt(r))})`;
    case F.GETSIG: return signalName(r);
    case F.GET_SEALS: return flagsOf(SEALS, BigInt(r));
  }
  return String(r);
};

// ---- ioctl -------------------------------------------------------------------------------

function intAt(c: DecodeCtx, a: number): string | undefined {
  return ints(c.mem, a, 1);
}

/** ioctl's argument, decoded for the common tty and fd requests. */
export const ioctlArg: ArgFmt = {
  enter: (c, v) => {
    switch (uint32(c.args[1])) {
      case IOC.TIOCSWINSZ: return deref(v, (a) => winsize(c.mem, a));
      case IOC.FIONBIO: case IOC.FIOASYNC: case IOC.TIOCSPGRP: case IOC.TIOCSPTLCK:
        return deref(v, (a) => intAt(c, a));
    }
    return ptr(v);
  },
  exit: (c, v) => {
    if (!succeeded(c)) return undefined;
    switch (uint32(c.args[1])) {
      case IOC.TIOCGWINSZ: return deref(v, (a) => winsize(c.mem, a));
      case IOC.FIONREAD: case IOC.TIOCGPGRP: case IOC.TIOCGPTN: case IOC.TIOCOUTQ: case IOC.TIOCGSID:
        return deref(v, (a) => intAt(c, a));
    }
    return undefined;
  },
};

// ---- futex -------------------------------------------------------------------------------

const FUTEX_WAIT = 0;
const FUTEX_WAKE = 1;
const FUTEX_REQUEUE = 3;
const FUTEX_CMP_REQUEUE = 4;
const FUTEX_WAKE_OP = 5;
const FUTEX_LOCK_PI = 6;
const FUTEX_UNLOCK_PI = 7;
const FUTEX_TRYLOCK_PI = 8;
const FUTEX_WAIT_BITSET = 9;
const FUTEX_WAKE_BITSET = 10;
const FUTEX_WAIT_REQUEUE_PI = 11;
const FUTEX_CMP_REQUEUE_PI = 12;
const FUTEX_LOCK_PI2 = 13;

function futexCmdOf(c: DecodeCtx): number {
  return futexCmd(int32(c.args[1]));
}

/** futex's fourth argument: a timeout for the waits, a count (val2) for requeues. */
export const futexTimeout: ArgFmt = {
  enter: (c, v) => {
    switch (futexCmdOf(c)) {
      case FUTEX_WAKE: case FUTEX_UNLOCK_PI: case FUTEX_TRYLOCK_PI: return '';
      case FUTEX_WAIT: case FUTEX_WAIT_BITSET: case FUTEX_LOCK_PI: case FUTEX_LOCK_PI2:
      case FUTEX_WAIT_REQUEUE_PI: return deref(v, (a) => timespec(c.mem, a));
      case FUTEX_REQUEUE: case FUTEX_CMP_REQUEUE: case FUTEX_WAKE_OP: case FUTEX_CMP_REQUEUE_PI:
        return String(uint32(v));
    }
    return hex(v);
  },
};

/** futex's uaddr2 and val3, shown only by the ops that use them. */
export function futexTail(which: 'uaddr2' | 'val3'): ArgFmt {
  return {
    enter: (c, v) => {
      const cmd = futexCmdOf(c);
      if (cmd === FUTEX_REQUEUE) return which === 'uaddr2' ? ptr(v) : '';
      if (cmd === FUTEX_CMP_REQUEUE || cmd === FUTEX_WAKE_OP || cmd === FUTEX_CMP_REQUEUE_PI || cmd === FUTEX_WAIT_REQUEUE_PI) {
        return which === 'uaddr2' ? ptr(v) : hex(uint32(v));
      }
      if (cmd === FUTEX_WAIT_BITSET || cmd === FUTEX_WAKE_BITSET) {
        if (which === 'uaddr2') return '';
        const b = uint32(v);
        return b === 0xffffffff ? 'FUTEX_BITSET_MATCH_ANY' : hex(b);
      }
      return '';
    },
  };
}

// ---- arch_prctl, prctl -------------------------------------------------------------------

const ARCH_GET_FS = 0x1003;
const ARCH_GET_GS = 0x1004;

export const archPrctlCode: ArgFmt = { enter: (_c, v) => enumOf(ARCH_PRCTL, int32(v)) };

export const archPrctlAddr: ArgFmt = {
  enter: (_c, v) => hex(v),
  exit: (c, v) => {
    const code = int32(c.args[0]);
    if ((code !== ARCH_GET_FS && code !== ARCH_GET_GS) || !succeeded(c)) return undefined;
    return deref(v, (a) => u64HexAt(c.mem, a));
  },
};

export const prctlOption: ArgFmt = { enter: (_c, v) => enumOf(PRCTL, int32(v)) };

const PR_SET_PDEATHSIG = 1;

export const prctlArg2: ArgFmt = {
  enter: (c, v) => {
    switch (int32(c.args[0])) {
      case PR_SET_NAME: return deref(v, (a) => cstring(c.mem, a, { buf: 16, str: 16 }));
      case PR_SET_PDEATHSIG: return signalName(int32(v));
    }
    return hex(v);
  },
  exit: (c, v) => {
    if (int32(c.args[0]) !== PR_GET_NAME || !succeeded(c)) return undefined;
    return deref(v, (a) => cstring(c.mem, a, { buf: 16, str: 16 }));
  },
};

// ---- sockets -----------------------------------------------------------------------------

/** socket's protocol: named for IP families, a number otherwise. */
export const sockProtocol: ArgFmt = {
  enter: (c, v) => {
    const dom = int32(c.args[0]);
    const p = int32(v);
    return dom === AF_INET || dom === AF_INET6 ? enumOf(IPPROTO, p) : String(p);
  },
};

export const sockLevel: ArgFmt = { enter: (_c, v) => enumOf(SOL, int32(v)) };

export const sockOptName: ArgFmt = {
  enter: (c, v) => {
    const t = SOCKOPT.get(int32(c.args[1]));
    return t ? enumOf(t, int32(v)) : String(int32(v));
  },
};

function optval(c: DecodeCtx, a: number, len: number): string | undefined {
  if (len === 4) return ints(c.mem, a, 1);
  return buffer(c.mem, a, len, c.limits);
}

/** setsockopt's value: an int shown as [1], anything else as bytes. */
export const setsockoptVal: ArgFmt = {
  enter: (c, v) => deref(v, (a) => optval(c, a, Math.max(0, int32(c.args[4])))),
};

/** getsockopt's value, sized by what the call wrote to *optlen. */
export const getsockoptVal: ArgFmt = {
  enter: (_c, v) => ptr(v),
  exit: (c, v) => {
    if (!succeeded(c)) return undefined;
    const la = addrOf(c.args[4]);
    const lenAt = la === undefined ? undefined : view(c.mem, la, 4);
    if (!lenAt) return undefined;
    return deref(v, (a) => optval(c, a, lenAt.getInt32(0, true)));
  },
};

/** A socket address the call reads, its length in argument lenArg. */
export function sockaddrIn(lenArg: number): ArgFmt {
  return { enter: (c, v) => deref(v, (a) => sockaddr(c.mem, a, Math.max(0, int32(c.args[lenArg])), c.limits)) };
}

/** A socket address the call writes, its length in *args[lenPtrArg] after the call. */
export function sockaddrOut(lenPtrArg: number): ArgFmt {
  return {
    enter: (_c, v) => ptr(v),
    exit: (c, v) => {
      if (!succeeded(c)) return undefined;
      const la = addrOf(c.args[lenPtrArg]);
      const lenView = la === undefined ? undefined : view(c.mem, la, 4);
      if (!lenView) return undefined;
      return deref(v, (a) => sockaddr(c.mem, a, lenView.getUint32(0, true), c.limits));
    },
  };
}

/** The flags word for accept4: only SOCK_CLOEXEC and SOCK_NONBLOCK. */
export const sockFlags: ArgFmt = { enter: (_c, v) => flagsOf(SOCK_FLAG_BITS, BigInt(uint32(v))) };
