// The ptrace platform: each address space is a stub process cloned from a master stub,
// each app thread a host thread in it, run with PTRACE_SYSEMU so the host kernel never
// executes an app syscall. Stops reach Node's loop through the addon's waiter thread.

import { E } from '../../abi/errno.js';
import { REG, Regs } from '../../abi/regs.js';
import type { Result } from '../../abi/result.js';
import { err, isErr } from '../../abi/result.js';
import { SYS } from '../../abi/sysno.js';
import { MemoryFile } from '../../mm/memory_file.js';
import type { AddressSpace, Platform, PlatformThread, TrapEvent } from '../platform.js';
import { native, NativeAddon, stubPath } from './native.js';

const MODE_SYSEMU = 0;
const SIGTRAP = 5;
const SIGSTOP = 19;
const SIGKILL = 9;
/** The host signal interrupt() uses: nothing else raises it in a stub (never a fault). */
const SIGSTKFLT = 16;
const SYSCALL_STOP = SIGTRAP | 0x80;
/** The memory file's fd number inside every stub. */
const STUB_MEMFD = 3;
const MAP_SHARED = 0x01;
const MAP_FIXED = 0x10;
const CLONE_VM = 0x100;
const CLONE_FS = 0x200;
const CLONE_FILES = 0x400;
const CLONE_SIGHAND = 0x800;
const CLONE_PARENT = 0x8000;
const CLONE_THREAD = 0x10000;
const SIGCHLD = 17;
/** How long to poll for the next stop before going back to Node's loop (µs). */
const SPIN_US = 60;
/** Stops handled in one synchronous burst before yielding to the loop. */
const BURST = 256;
/** Host calls per injected batch (native injectBatch's limit). */
const MAX_BATCH = 4096;
/**
 * Where every stub maps its scratch page, which receives what injected calls write (a
 * thread's CPU clock): above the app's range, clear of the stub's code, stack and vDSO.
 */
const SCRATCH_ADDR = 0x7fff00010000;
const PAGE = 4096;
const PROT_RW = 3;
const MAP_FIXED_NOREPLACE = 0x100000;
const CLOCK_THREAD_CPUTIME_ID = 3;
/** MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED): a sibling's CPU clock (Linux allows it within the thread group only). */
const threadCpuClock = (tid: number): number => (~tid << 3) | 6;

type HostOp = [nr: number, a0: number, a1: number, a2: number];

class PtraceAddressSpace implements AddressSpace {
  readonly threads = new Set<PtraceThread>();
  private pending: HostOp[] = [];
  released = false;
  /**
   * CPU time of the threads that ended, read as each went (deadKnown: every one was), and
   * exits still under way: with one thread left and all known, its clock is the process
   * clock minus deadCpuNs, with no injection.
   */
  deadCpuNs = 0n;
  deadKnown = true;
  exitsPending = 0;
  /** Someone read a thread clock here: from now on exits pay a reading to keep deadCpuNs. */
  threadClocksUsed = false;
  /** The memory-file page at SCRATCH_ADDR (undefined: not mapped yet; null: cannot be). */
  private scratch: number | null | undefined;

  constructor(readonly platform: PtracePlatform, readonly pid: number) {}

  /** A thread of this process stopped under our control, through which we can inject. */
  private stoppedThread(): PtraceThread | undefined {
    for (const t of this.threads) if (t.stopped && !t.dead) return t;
    return undefined;
  }

  /** The scratch page's memory-file page, mapped in the stub through `via` on first use. */
  private scratchPage(via: PtraceThread): number | null {
    if (this.scratch !== undefined) return this.scratch;
    const mf = this.platform.memoryFile;
    const got = mf.alloc(1);
    if (isErr(got)) return null;
    const ppn = got[0];
    // NOREPLACE: if the stub had something there, go without rather than clobber it.
    const r = this.platform.n.inject(via.hostTid, SYS.mmap, SCRATCH_ADDR, PAGE, PROT_RW, MAP_SHARED | MAP_FIXED_NOREPLACE, STUB_MEMFD, ppn * PAGE);
    if (typeof r === 'number' || r[0] !== SCRATCH_ADDR) {
      mf.release(ppn);
      this.platform.log(`stub ${this.pid}: no scratch page (${typeof r === 'number' ? r : r[0]}); thread CPU clocks lag`);
      this.scratch = null;
      return null;
    }
    this.scratch = ppn;
    return ppn;
  }

  /**
   * target's CPU clock, read by a clock_gettime injected into a stopped thread of this stub
   * (target itself when it is stopped): undefined when every thread runs or the host refused.
   */
  readThreadClock(target: PtraceThread): bigint | undefined {
    const via = target.stopped && !target.dead ? target : this.stoppedThread();
    return via === undefined ? undefined : this.clockVia(via, target);
  }

  /** target's CPU clock through the stopped thread via (exiting threads included). */
  clockVia(via: PtraceThread, target: PtraceThread): bigint | undefined {
    if (this.released) return undefined;
    const ppn = this.scratchPage(via);
    if (ppn === null) return undefined;
    const clock = via === target ? CLOCK_THREAD_CPUTIME_ID : threadCpuClock(target.hostTid);
    const r = this.platform.n.inject(via.hostTid, SYS.clock_gettime, clock, SCRATCH_ADDR, 0, 0, 0, 0);
    if (typeof r === 'number' || r[0] !== 0) return undefined;
    const page = this.platform.memoryFile.page(ppn);
    const dv = new DataView(page.buffer, page.byteOffset, 16);
    return dv.getBigInt64(0, true) * 1_000_000_000n + dv.getBigInt64(8, true);
  }

  // Operations queue until flush() (the memory manager calls it at the end of each
  // operation, resume() before the app runs): one injected batch per operation.
  private op(nr: number, a0: number, a1: number, a2: number): void {
    if (this.released) return;
    this.pending.push([nr, a0, a1, a2]);
  }

  map(addr: number, len: number, prot: number, fileOffset: number): void {
    if (this.released) return;
    // mmap carries six arguments; keep them apart from the three-argument ops.
    this.pending.push([SYS.mmap, addr, len, prot]);
    this.pendingOffsets.set(this.pending.length - 1, fileOffset);
  }
  private pendingOffsets = new Map<number, number>();

  unmap(addr: number, len: number): void {
    this.op(SYS.munmap, addr, len, 0);
  }

  protect(addr: number, len: number, prot: number): void {
    this.op(SYS.mprotect, addr, len, prot);
  }

  flush(): void {
    if (this.pending.length === 0 || this.released) return;
    const t = this.stoppedThread();
    if (t === undefined) return;
    // injectBatch takes at most MAX_BATCH calls per crossing.
    while (this.pending.length > MAX_BATCH && !this.released) this.flushSome(t, MAX_BATCH);
    if (!this.released) this.flushSome(t, this.pending.length);
  }

  /** Injects the first n queued operations through the stopped thread t. */
  private flushSome(t: PtraceThread, n: number): void {
    const calls = this.platform.batchCalls(n);
    for (let i = 0; i < n; i++) {
      const [nr, a0, a1, a2] = this.pending[i];
      const b = i * 7;
      calls[b] = nr;
      calls[b + 1] = a0;
      calls[b + 2] = a1;
      calls[b + 3] = a2;
      if (nr === SYS.mmap) {
        calls[b + 4] = MAP_SHARED | MAP_FIXED;
        calls[b + 5] = STUB_MEMFD;
        calls[b + 6] = this.pendingOffsets.get(i) ?? 0;
      } else {
        calls[b + 4] = 0;
        calls[b + 5] = 0;
        calls[b + 6] = 0;
      }
    }
    this.pending.splice(0, n);
    if (this.pending.length === 0) this.pendingOffsets.clear();
    else {
      const rest = new Map<number, number>();
      for (const [i, off] of this.pendingOffsets) if (i >= n) rest.set(i - n, off);
      this.pendingOffsets = rest;
    }
    const results = this.platform.batchResults(n);
    const done = this.platform.n.injectBatch(t.hostTid, calls, results, n);
    if (done !== n || results.subarray(0, n).some((r) => r < 0 && r > -4096)) {
      // The host refused a mapping we asked for: the stub's view can no longer be trusted,
      // so end this address space rather than run the app on wrong memory.
      this.platform.log(`stub ${this.pid}: host mapping failed (done=${done}/${n}); killing it`);
      this.release();
    }
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.pending = [];
    this.platform.n.kill(this.pid, SIGKILL);
    if (typeof this.scratch === 'number') this.platform.memoryFile.release(this.scratch);
    this.scratch = null;
    for (const t of this.threads) {
      t.dead = true;
      this.platform.threads.delete(t.hostTid);
    }
    this.platform.spaces.delete(this.pid);
  }
}

class PtraceThread implements PlatformThread {
  readonly regs = new Regs();
  stopped = true;
  dead = false;
  /** The regs buffer holds what the host has (no SETREGS needed on resume). */
  private regsDirty = true;
  private fp?: Uint8Array;
  private fpLen = 0;
  private fpDirty = false;
  /** The kernel asked for an interrupt trap; a SIGSTKFLT stop without it was only for a CPU reading. */
  interruptWanted = false;
  /** A reading of this thread's CPU clock is wanted at its next stop. */
  cpuSampleWanted = false;
  /** The latest reading of this thread's CPU clock (readings never go backwards). */
  private lastCpuNs = 0n;

  constructor(readonly platform: PtracePlatform, readonly as: PtraceAddressSpace, readonly hostTid: number) {}

  /** Called at each stop: the fresh registers. */
  loadRegs(): void {
    this.platform.n.getRegs(this.hostTid, this.regs.bytes);
    this.regsDirty = false;
    this.fp = undefined;
    this.fpDirty = false;
  }

  markRegsDirty(): void {
    this.regsDirty = true;
  }

  getFpState(): Uint8Array {
    if (this.fp === undefined) {
      const buf = new Uint8Array(8192);
      const n = this.platform.n.getFpregs(this.hostTid, buf);
      this.fpLen = n > 0 ? n : 512;
      this.fp = buf.subarray(0, this.fpLen);
    }
    return this.fp;
  }

  setFpState(state: Uint8Array): void {
    const cur = this.getFpState();
    cur.set(state.subarray(0, Math.min(state.length, cur.length)));
    this.fpDirty = true;
  }

  resume(): void {
    if (this.dead || !this.stopped) return;
    this.as.flush();
    if (this.as.released) return;
    // Registers are always written back: handlers set rax and may change anything.
    this.platform.n.setRegs(this.hostTid, this.regs.bytes);
    this.regsDirty = false;
    if (this.fpDirty && this.fp !== undefined) this.platform.n.setFpregs(this.hostTid, this.fp, this.fpLen);
    this.fpDirty = false;
    this.stopped = false;
    const r = this.platform.n.resume(this.hostTid, MODE_SYSEMU, 0);
    if (r < 0) {
      this.platform.log(`resume of host thread ${this.hostTid} failed: ${r}`);
      this.dead = true;
      return;
    }
    this.platform.resumedSinceDrain = true;
    this.platform.pollAfterResume();
  }

  interrupt(): void {
    if (this.dead || this.stopped) return;
    this.interruptWanted = true;
    this.platform.n.tgkill(this.as.pid, this.hostTid, SIGSTKFLT);
  }

  cpuTimeNs(): bigint | undefined {
    return this.platform.processCpuNs(this.as.pid);
  }

  threadCpuNs(refresh = false): bigint | undefined {
    if (this.dead) return undefined;
    const as = this.as;
    as.threadClocksUsed = true;
    let ns: bigint | undefined;
    if (as.threads.size === 1 && as.deadKnown && as.exitsPending === 0) {
      // The only thread left: the process clock less what the others used, cheaply.
      const p = this.platform.processCpuNs(as.pid);
      ns = p === undefined ? undefined : p - as.deadCpuNs;
    } else {
      ns = as.readThreadClock(this);
    }
    if (ns !== undefined) {
      if (ns > this.lastCpuNs) this.lastCpuNs = ns;
    } else if (refresh && !this.stopped && !this.cpuSampleWanted) {
      // Every thread runs: stop this one for a moment (dispatch reads it and runs it on).
      this.cpuSampleWanted = true;
      this.platform.n.tgkill(this.as.pid, this.hostTid, SIGSTKFLT);
    }
    return this.lastCpuNs;
  }

  /** At a stop: the reading threadCpuNs(true) asked for. */
  sampleCpu(): void {
    this.cpuSampleWanted = false;
    const ns = this.as.readThreadClock(this);
    if (ns !== undefined && ns > this.lastCpuNs) this.lastCpuNs = ns;
  }

  exit(): void {
    if (this.dead) return;
    // Its final CPU time, for the clocks of the threads that stay (see threadCpuNs).
    if (this.stopped && this.as.threads.size > 1) this.endCpu();
    this.dead = true;
    this.as.threads.delete(this);
    this.platform.threads.delete(this.hostTid);
    if (this.as.threads.size === 0) {
      this.as.release();
      return;
    }
    if (!this.stopped) {
      // Running on a CPU: stop it first; dispatch() finishes the exit at its next stop.
      this.as.exitsPending++;
      this.platform.exiting.set(this.hostTid, this);
      this.platform.n.tgkill(this.as.pid, this.hostTid, SIGSTKFLT);
      return;
    }
    this.injectExit();
  }

  /** Adds this (stopped, ending) thread's CPU time to what its address space's dead threads used. */
  endCpu(): void {
    const ns = this.as.threadClocksUsed ? this.as.clockVia(this, this) : undefined;
    if (ns === undefined) this.as.deadKnown = false;
    else this.as.deadCpuNs += ns;
  }

  /** Ends only this host thread: exit(2) injected through the trampoline. */
  injectExit(): void {
    this.stopped = false;
    const regs = this.regs.clone();
    regs.set(REG.rax, SYS.exit);
    regs.set(REG.rdi, 0);
    regs.set(REG.rip, this.platform.n.STUB_SYSCALL_ADDR);
    regs.set(REG.orig_rax, -1);
    this.platform.n.setRegs(this.hostTid, regs.bytes);
    this.platform.n.resume(this.hostTid, 1, 0);
  }
}

export class PtracePlatform implements Platform {
  readonly name = 'ptrace';
  readonly n: NativeAddon;
  readonly memoryFile: MemoryFile;
  private readonly masterPid: number;
  readonly threads = new Map<number, PtraceThread>();
  readonly spaces = new Map<number, PtraceAddressSpace>();
  /** Threads asked to exit while running: exit(2) is injected at their next stop. */
  readonly exiting = new Map<number, PtraceThread>();
  onTrap: (thread: PlatformThread, ev: TrapEvent) => void = () => {};
  resumedSinceDrain = false;
  private readonly events = new Int32Array(512);
  private readonly siginfo = new Uint8Array(128);
  private calls = new Float64Array(7 * 64);
  private results = new Float64Array(64);
  private pumping = false;
  private pollQueued = false;
  private active = true;
  private pumpScheduled = false;

  constructor(readonly log: (msg: string) => void, memoryBytes = 16 * 2 ** 30) {
    this.n = native();
    const chunk = 2 ** 30;
    const mf = this.n.memfileCreate(memoryBytes, chunk);
    if (typeof mf === 'number') throw new Error(`tsvisor: cannot create the memory file: errno ${-mf}`);
    const [fd, ...chunks] = mf;
    this.memoryFile = new MemoryFile({ fd, chunks, punch: (off, len) => void this.n.memfilePunch(fd, off, len) });
    const pid = this.n.stubSpawn(stubPath(), fd);
    if (pid < 0) throw new Error(`tsvisor: cannot start the stub (${stubPath()}): errno ${-pid}`);
    this.masterPid = pid;
    const r = this.n.waiterStart(() => this.pump());
    if (r < 0) throw new Error(`tsvisor: cannot start the ptrace waiter: errno ${-r}`);
    this.n.waiterArm();
  }

  batchCalls(n: number): Float64Array {
    if (this.calls.length < n * 7) this.calls = new Float64Array(n * 7 * 2);
    return this.calls;
  }

  batchResults(n: number): Float64Array {
    if (this.results.length < n) this.results = new Float64Array(n * 2);
    return this.results;
  }

  /** A new, empty stub process cloned from the master (CLONE_PARENT: we reap it). */
  newAddressSpace(): Result<AddressSpace> {
    const r = this.n.inject(this.masterPid, SYS.clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0, 0);
    if (typeof r === 'number') return err(-r);
    const [ret, child] = r;
    if (ret < 0) return err(-ret);
    const pid = child > 0 ? child : ret;
    const st = this.n.waitStopped(pid);
    if (st < 0 || (st & 0xff) !== 0x7f) return err(E.EAGAIN);
    const as = new PtraceAddressSpace(this, pid);
    this.spaces.set(pid, as);
    // The stub's first thread parks until newThread() claims it.
    as.threads.add(new PtraceThread(this, as, pid));
    return as;
  }

  newThread(asIn: AddressSpace, regs: Regs): Result<PlatformThread> {
    const as = asIn as PtraceAddressSpace;
    if (as.released) return err(E.ESRCH);
    // The first thread of a fresh stub is the one it was cloned with.
    for (const t of as.threads) {
      if (!this.threads.has(t.hostTid) && !t.dead) {
        this.threads.set(t.hostTid, t);
        t.regs.copyFrom(regs);
        t.markRegsDirty();
        return t;
      }
    }
    const via = [...as.threads].find((t) => t.stopped && !t.dead);
    if (via === undefined) return err(E.EAGAIN);
    const flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD;
    const r = this.n.inject(via.hostTid, SYS.clone, flags, 0, 0, 0, 0, 0);
    if (typeof r === 'number') return err(-r);
    const [ret, tid] = r;
    if (ret < 0) return err(-ret);
    const st = this.n.waitStopped(tid);
    if (st < 0) return err(E.EAGAIN);
    const t = new PtraceThread(this, as, tid);
    as.threads.add(t);
    this.threads.set(tid, t);
    t.regs.copyFrom(regs);
    t.markRegsDirty();
    return t;
  }

  setActive(active: boolean): void {
    this.active = active;
    this.n.waiterRef(active ? 1 : 0);
  }

  /**
   * A thread resumed outside a pump (an async syscall finished, a waiter woke): poll for
   * its next stop right after the current job instead of waiting for the waiter thread
   * to wake Node's loop, which costs tens of microseconds per trap.
   */
  pollAfterResume(): void {
    if (this.pumping || this.pollQueued) return;
    this.pollQueued = true;
    queueMicrotask(() => {
      this.pollQueued = false;
      this.pump(true);
    });
  }

  /** Drains every pending stop and dispatches it; polls briefly for more while busy. */
  pump(spinFirst = false): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      let handled = 0;
      let spin = spinFirst && this.resumedSinceDrain ? SPIN_US : 0;
      for (;;) {
        this.resumedSinceDrain = false;
        const count = this.n.waitAll(this.events, spin);
        if (count <= 0) break;
        for (let i = 0; i < count; i++) this.dispatch(this.events[2 * i], this.events[2 * i + 1]);
        handled += count;
        if (handled >= BURST) {
          // Let timers, I/O and promise continuations run, then come back.
          if (!this.pumpScheduled) {
            this.pumpScheduled = true;
            setImmediate(() => {
              this.pumpScheduled = false;
              this.pump();
            });
          }
          break;
        }
        spin = this.resumedSinceDrain ? SPIN_US : 0;
      }
    } finally {
      this.pumping = false;
      this.n.waiterArm();
    }
  }

  private dispatch(tid: number, status: number): void {
    const t = this.threads.get(tid);
    const exited = (status & 0x7f) === 0 || ((status & 0x7f) !== 0x7f && (status & 0x7f) !== 0);
    if (t === undefined) {
      const ex = this.exiting.get(tid);
      if (ex !== undefined) {
        ex.as.exitsPending--;
        if (exited) {
          this.exiting.delete(tid);
          ex.as.deadKnown = false;
        } else if (!ex.as.released) {
          this.exiting.delete(tid);
          ex.stopped = true;
          ex.endCpu();
          ex.loadRegs();
          ex.injectExit();
        }
        return;
      }
      // A stub's parked first thread, a killed stub being reaped, or an exiting host thread.
      if (!exited) {
        const sp = [...this.spaces.values()].find((s) => [...s.threads].some((x) => x.hostTid === tid));
        if (sp === undefined && tid !== this.masterPid) this.n.resume(tid, 1, 0);
      }
      return;
    }
    if (exited) {
      t.dead = true;
      t.stopped = true;
      this.threads.delete(tid);
      t.as.threads.delete(t);
      t.as.deadKnown = false;
      this.onTrap(t, { kind: 'gone', status });
      return;
    }
    const sig = (status >> 8) & 0xff;
    const event = (status >> 16) & 0xff;
    t.stopped = true;
    // (Not at group-stops or ptrace events: those are let run at once.)
    if (t.cpuSampleWanted && event === 0 && sig !== SIGSTOP) t.sampleCpu();
    if (sig === SYSCALL_STOP) {
      t.loadRegs();
      this.onTrap(t, { kind: 'syscall' });
      return;
    }
    if (sig === SIGSTKFLT && event === 0) {
      if (!t.interruptWanted) {
        // Our own stop for a CPU reading (taken above): the thread runs on untouched.
        t.as.flush();
        t.stopped = false;
        this.n.resume(tid, MODE_SYSEMU, 0);
        this.resumedSinceDrain = true;
        return;
      }
      t.interruptWanted = false;
      t.loadRegs();
      this.onTrap(t, { kind: 'interrupt' });
      return;
    }
    if (event !== 0 || sig === SIGSTOP) {
      // Group-stop or event noise: keep running.
      t.stopped = false;
      this.n.resume(tid, MODE_SYSEMU, 0);
      return;
    }
    t.loadRegs();
    this.n.getSiginfo(tid, this.siginfo);
    const dv = new DataView(this.siginfo.buffer);
    const signo = dv.getInt32(0, true);
    const code = dv.getInt32(8, true);
    const addr = Number(dv.getBigUint64(16, true));
    this.onTrap(t, { kind: 'signal', signo: signo || sig, code, addr });
  }

  /** CPU time of a stub process (its host CPU clock): the app threads it runs. */
  processCpuNs(pid: number): bigint | undefined {
    const ns = this.n.cpuClockNs?.(pid);
    if (ns === undefined || ns < 0) return undefined;
    return BigInt(Math.round(ns));
  }

  shutdown(): void {
    for (const as of [...this.spaces.values()]) as.release();
    this.n.kill(this.masterPid, SIGKILL);
    this.setActive(false);
  }
}
