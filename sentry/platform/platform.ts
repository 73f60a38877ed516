// The platform interface: how app threads run and trap. ptrace implements it now; the
// seccomp-trap and KVM platforms that follow are new implementations, not a rewrite.

import type { Regs } from '../abi/regs.js';
import type { Result } from '../abi/result.js';
import type { MemoryFile } from '../mm/memory_file.js';

/** What stopped a thread. */
export type TrapEvent =
  | { kind: 'syscall' }
  /** A synchronous fault or other signal the host raised in the thread (SIGSEGV with si_addr...). */
  | { kind: 'signal'; signo: number; code: number; addr: number }
  /** interrupt() took effect: the thread stopped so the kernel can deliver a signal. */
  | { kind: 'interrupt' }
  /** The host thread is gone (killed from outside, or the stub died). */
  | { kind: 'gone'; status: number };

/** One application address space (a stub process on ptrace). */
export interface AddressSpace {
  /** Maps [addr, addr+len) to the memory file at fileOffset with host prot bits. */
  map(addr: number, len: number, prot: number, fileOffset: number): void;
  unmap(addr: number, len: number): void;
  protect(addr: number, len: number, prot: number): void;
  /** Applies queued map/unmap/protect operations now (they queue while no thread is stopped). */
  flush(): void;
  /** Kills every host thread of this address space. */
  release(): void;
}

/** One application thread. Created stopped; the kernel sets regs and calls resume(). */
export interface PlatformThread {
  readonly hostTid: number;
  readonly as: AddressSpace;
  /** Registers as of the last trap; written back on resume. */
  readonly regs: Regs;
  /** The FP/SSE/AVX state as of the last trap (fetched on demand). */
  getFpState(): Uint8Array;
  setFpState(state: Uint8Array): void;
  /** Runs app code until the next trap, which arrives through Platform.onTrap. */
  resume(): void;
  /** Ends this host thread (the app thread exited); the address space stays. */
  exit(): void;
  /** Makes a running thread trap soon ('interrupt'); no effect when it is stopped. */
  interrupt(): void;
  /** CPU time of the whole address space (every thread of it, exited ones too), in ns (undefined if unknown). */
  cpuTimeNs(): bigint | undefined;
  /**
   * This thread's own CPU time in ns (undefined once it is gone). Exact whenever it can be
   * read now; while every thread of its address space runs it may lag (the last reading),
   * and with refresh the thread is stopped briefly so that a later call is current.
   */
  threadCpuNs(refresh?: boolean): bigint | undefined;
}

export interface Platform {
  readonly name: string;
  readonly memoryFile: MemoryFile;
  newAddressSpace(): Result<AddressSpace>;
  /** A new thread in `as`, starting with a copy of `regs`. */
  newThread(as: AddressSpace, regs: Regs): Result<PlatformThread>;
  /** Set by the kernel: called for every trap of every thread. */
  onTrap: (thread: PlatformThread, ev: TrapEvent) => void;
  /** Whether pending traps keep the Node process alive. */
  setActive(active: boolean): void;
  shutdown(): void;
}
