// Signal syscalls. Actions and masks are real state; delivery runs default actions, and
// user handlers get frames with the kernel issue (sendSignal logs when one is bypassed).

import { E } from '../abi/errno.js';
import { isErr } from '../abi/result.js';
import { SYS } from '../abi/sysno.js';
import { SIG } from '../kernel/signals.js';
import type { SyscallHandler, SyscallTable } from './types.js';

const SIG_BLOCK = 0;
const SIG_UNBLOCK = 1;
const SIG_SETMASK = 2;
const UNBLOCKABLE = (1n << BigInt(SIG.SIGKILL - 1)) | (1n << BigInt(SIG.SIGSTOP - 1));

/** rt_sigaction(sig, act, oldact, sigsetsize): SIGKILL/SIGSTOP cannot be changed. */
const sysRtSigaction: SyscallHandler = (t, a) => {
  const sig = a.int(0);
  const act = a.ptr(1);
  const old = a.ptr(2);
  if (a.size(3) !== 8) return -E.EINVAL;
  if (sig < 1 || sig > 64) return -E.EINVAL;
  const cur = t.tg.sigactions[sig];
  let next = cur;
  if (act !== 0) {
    if (sig === SIG.SIGKILL || sig === SIG.SIGSTOP) return -E.EINVAL;
    const b = t.mem.copyIn(act, 32);
    if (isErr(b)) return -b.errno;
    const dv = new DataView(b.buffer, b.byteOffset, 32);
    next = {
      handler: dv.getBigUint64(0, true),
      flags: dv.getBigUint64(8, true),
      restorer: dv.getBigUint64(16, true),
      mask: dv.getBigUint64(24, true) & ~UNBLOCKABLE,
    };
  }
  if (old !== 0) {
    const b = new Uint8Array(32);
    const dv = new DataView(b.buffer);
    dv.setBigUint64(0, cur.handler, true);
    dv.setBigUint64(8, cur.flags, true);
    dv.setBigUint64(16, cur.restorer, true);
    dv.setBigUint64(24, cur.mask, true);
    const r = t.mem.copyOut(old, b);
    if (isErr(r)) return -r.errno;
  }
  t.tg.sigactions[sig] = next;
  return 0;
};

/** rt_sigprocmask(how, set, oldset, sigsetsize). */
const sysRtSigprocmask: SyscallHandler = (t, a) => {
  const how = a.int(0);
  const set = a.ptr(1);
  const old = a.ptr(2);
  if (a.size(3) !== 8) return -E.EINVAL;
  const prev = t.sigmask;
  if (set !== 0) {
    const b = t.mem.copyIn(set, 8);
    if (isErr(b)) return -b.errno;
    const m = new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
    switch (how) {
      case SIG_BLOCK: t.sigmask = prev | m; break;
      case SIG_UNBLOCK: t.sigmask = prev & ~m; break;
      case SIG_SETMASK: t.sigmask = m; break;
      default: return -E.EINVAL;
    }
    t.sigmask &= ~UNBLOCKABLE;
  }
  if (old !== 0) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, prev, true);
    const r = t.mem.copyOut(old, b);
    if (isErr(r)) return -r.errno;
  }
  return 0;
};

/** sigaltstack(ss, old_ss): stored for handler frames. */
const sysSigaltstack: SyscallHandler = (t, a) => {
  const ss = a.ptr(0);
  const old = a.ptr(1);
  if (old !== 0) {
    const b = new Uint8Array(24);
    const dv = new DataView(b.buffer);
    dv.setBigUint64(0, BigInt(t.altStack.sp), true);
    dv.setInt32(8, t.altStack.flags, true);
    dv.setBigUint64(16, BigInt(t.altStack.size), true);
    const r = t.mem.copyOut(old, b);
    if (isErr(r)) return -r.errno;
  }
  if (ss !== 0) {
    const b = t.mem.copyIn(ss, 24);
    if (isErr(b)) return -b.errno;
    const dv = new DataView(b.buffer, b.byteOffset, 24);
    const flags = dv.getInt32(8, true);
    const SS_DISABLE = 2;
    const SS_AUTODISARM = 1 << 31;
    if ((flags & ~(SS_DISABLE | SS_AUTODISARM)) !== 0) return -E.EINVAL;
    const size = Number(dv.getBigUint64(16, true));
    if ((flags & SS_DISABLE) === 0 && size < 2048) return -E.ENOMEM;
    t.altStack = { sp: Number(dv.getBigUint64(0, true)), flags, size };
  }
  return 0;
};

function killTarget(t: Parameters<SyscallHandler>[0], pid: number): ReturnType<typeof t.kernel.groups.get>[] {
  const k = t.kernel;
  if (pid > 0) return [k.groups.get(pid)];
  if (pid === 0) return [...k.groups.values()].filter((g) => g.pgid === t.tg.pgid);
  if (pid === -1) return [...k.groups.values()].filter((g) => g.pid !== 1 && g !== t.tg);
  return [...k.groups.values()].filter((g) => g.pgid === -pid);
}

/** kill(pid, sig): pid > 0 one process, 0 our group, -1 everyone but init, < -1 a group. */
const sysKill: SyscallHandler = (t, a) => {
  const pid = a.int(0);
  const sig = a.int(1);
  if (sig < 0 || sig > 64) return -E.EINVAL;
  const targets = killTarget(t, pid).filter((g) => g !== undefined && !g.zombie);
  if (targets.length === 0) return -E.ESRCH;
  for (const g of targets) if (g !== undefined) t.kernel.sendSignal(g, sig);
  return 0;
};

const sysTgkill: SyscallHandler = (t, a) => {
  const tgid = a.int(0);
  const tid = a.int(1);
  const sig = a.int(2);
  if (tgid <= 0 || tid <= 0 || sig < 0 || sig > 64) return -E.EINVAL;
  const task = t.kernel.tasks.get(tid);
  if (task === undefined || task.pid !== tgid) return -E.ESRCH;
  const r = t.kernel.sendSignal(task.tg, sig);
  return isErr(r) ? -r.errno : 0;
};

const sysTkill: SyscallHandler = (t, a) => {
  const tid = a.int(0);
  const sig = a.int(1);
  if (tid <= 0 || sig < 0 || sig > 64) return -E.EINVAL;
  const task = t.kernel.tasks.get(tid);
  if (task === undefined) return -E.ESRCH;
  const r = t.kernel.sendSignal(task.tg, sig);
  return isErr(r) ? -r.errno : 0;
};

export const signalSyscalls: SyscallTable = {
  [SYS.rt_sigaction]: sysRtSigaction,
  [SYS.rt_sigprocmask]: sysRtSigprocmask,
  [SYS.sigaltstack]: sysSigaltstack,
  [SYS.kill]: sysKill,
  [SYS.tgkill]: sysTgkill,
  [SYS.tkill]: sysTkill,
};
