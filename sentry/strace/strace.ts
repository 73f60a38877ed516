// --strace: one line per syscall, in the style of gVisor's `runsc --strace`.
//
//   [   1:   1] ls X openat(AT_FDCWD, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC, 0o0) = 3 (12.3µs)
//   [   1:   2] ls E read(0, 0x7ffd5e1c3000, 4096)          <- still running: it blocks
//
// By default a call that completes at once prints only its X line (it carries the same
// arguments); the E line appears for a call that is still running after a few
// milliseconds, or when another task's line comes between its entry and its exit, so a
// hang shows what it is stuck in. entryLines: 'always' prints every E line as gVisor does.
// The dispatcher calls enter/exit only when tracing is on, so nothing here costs anything
// otherwise.

import { SYSCALL_NAMES } from '../abi/sysno.js';
import type { AppMemory } from '../mm/app_memory.js';
import { isErrRet, retDec, type DecodeCtx } from './args.js';
import { describeErrno } from './errno_text.js';
import { duration, hex } from './format.js';
import type { Limits } from './structs.js';
import { SYSCALL_SPECS, type SyscallSpec } from './syscall_table.js';

export interface StraceTask {
  tid: number;
  pid: number;
  comm: string;
  mem: AppMemory;
}

export interface StraceOptions {
  /** 'blocking' (default): E lines only for calls that block or interleave; 'always': every call. */
  entryLines?: 'blocking' | 'always';
  /** How long a call may run before its held-back E line is printed (default 10 ms). */
  blockingMs?: number;
  /** Trace only these syscalls (names such as "openat", or numbers). */
  syscalls?: Iterable<string | number>;
  /** Bytes of a data buffer shown (default 32). */
  bufferBytes?: number;
  /** Characters of a path or string shown (default 64). */
  stringBytes?: number;
}

/** A call between its enter and its exit. */
interface InFlight {
  readonly sysno: number;
  readonly pid: number;
  /** Argument texts decoded at entry; input arguments are not read again at exit. */
  readonly texts: readonly string[];
  readonly startNs: bigint;
}

const NAME_BY_STRING: ReadonlyMap<string, number> = new Map(
  SYSCALL_NAMES.flatMap((n, i) => (n === undefined ? [] : [[n, i] as const])),
);

const GENERIC_ARGS = 6;

export class Strace {
  private readonly limits: Limits;
  private readonly always: boolean;
  private readonly blockingMs: number;
  /** Syscalls traced, or undefined for all of them. */
  private readonly only: ReadonlySet<number> | undefined;
  private readonly inflight = new Map<number, InFlight>();
  /** E lines held back, by tid, in entry order. */
  private readonly held = new Map<number, string>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Decoder exceptions caught so far (each printed the raw value instead); 0 unless we have a bug. */
  decoderErrors = 0;

  constructor(private readonly write: (line: string) => void, opts: StraceOptions = {}) {
    this.limits = { buf: opts.bufferBytes ?? 32, str: opts.stringBytes ?? 64 };
    this.always = opts.entryLines === 'always';
    this.blockingMs = opts.blockingMs ?? 10;
    if (opts.syscalls !== undefined) {
      const s = new Set<number>();
      for (const x of opts.syscalls) {
        const n = typeof x === 'number' ? x : NAME_BY_STRING.get(x);
        if (n !== undefined) s.add(n);
      }
      this.only = s;
    }
  }

  /** Whether calls to sysno are printed (the syscalls option). */
  traces(sysno: number): boolean {
    return this.only === undefined || this.only.has(sysno);
  }

  /** Called before the handler runs. args: the six raw argument values as bigint. */
  enter(t: StraceTask, sysno: number, args: readonly bigint[]): void {
    if (!this.traces(sysno)) return;
    const spec = SYSCALL_SPECS[sysno];
    const ctx: DecodeCtx = { mem: t.mem, args, ret: undefined, limits: this.limits };
    const texts = this.entryTexts(spec, ctx);
    const line = `${prefix(t)} E ${syscallName(sysno)}(${joinArgs(texts)})`;
    if (spec?.noReturn) {
      // exit_group has no X line; print now, while the task still exists.
      this.emit(line);
      return;
    }
    this.inflight.set(t.tid, { sysno, pid: t.pid, texts, startNs: process.hrtime.bigint() });
    if (this.always) {
      this.emit(line);
      return;
    }
    this.flushHeld();
    this.held.set(t.tid, line);
    if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flushHeld();
      }, this.blockingMs);
      this.timer.unref?.();
    }
  }

  /** Called after; ret is rax (-errno on error). Output-side arguments are decoded now. */
  exit(t: StraceTask, sysno: number, args: readonly bigint[], ret: number, durationNs?: number): void {
    if (!this.traces(sysno)) return;
    const spec = SYSCALL_SPECS[sysno];
    const f = this.takeInFlight(t, sysno);
    this.held.delete(t.tid);
    const ctx: DecodeCtx = { mem: t.mem, args, ret, limits: this.limits };
    const texts = f ? [...f.texts] : this.entryTexts(spec, { ...ctx, ret: undefined });
    if (spec) {
      for (let i = 0; i < spec.args.length; i++) {
        const fmt = spec.args[i];
        if (fmt.exit === undefined) continue;
        const x = this.safely(() => fmt.exit?.(ctx, args[i] ?? 0n), undefined);
        if (x !== undefined) texts[i] = x;
      }
    }
    const r = isErrRet(ret)
      ? `-1 ${describeErrno(-ret)}`
      : this.safely(() => (spec?.ret ?? retDec)(ctx, ret), String(ret));
    const ns = durationNs ?? (f ? Number(process.hrtime.bigint() - f.startNs) : undefined);
    const d = ns === undefined ? '' : ` (${duration(ns)})`;
    this.emit(`${prefix(t)} X ${syscallName(sysno)}(${joinArgs(texts)}) = ${r}${d}`);
  }

  /** Prints the E lines still held back (call when the sandbox shuts down). */
  flush(): void {
    this.flushHeld();
  }

  private takeInFlight(t: StraceTask, sysno: number): InFlight | undefined {
    let f = this.inflight.get(t.tid);
    let key = t.tid;
    if (f === undefined || f.sysno !== sysno) {
      // A non-leader thread's execve returns under the leader's tid.
      f = undefined;
      for (const [k, v] of this.inflight) {
        if (v.pid === t.pid && v.sysno === sysno) {
          f = v;
          key = k;
          break;
        }
      }
      if (f !== undefined) this.held.delete(key);
    }
    if (f !== undefined) this.inflight.delete(key);
    return f;
  }

  private entryTexts(spec: SyscallSpec | undefined, ctx: DecodeCtx): string[] {
    if (spec === undefined) {
      const out: string[] = [];
      for (let i = 0; i < GENERIC_ARGS; i++) out.push(hex(ctx.args[i] ?? 0n));
      return out;
    }
    return spec.args.map((fmt, i) => {
      const v = ctx.args[i] ?? 0n;
      return this.safely(() => fmt.enter(ctx, v), hex(v));
    });
  }

  /** Tracing must never take the Sentry down: a decoder bug prints the raw value instead. */
  private safely<T>(f: () => T, fallback: T): T {
    try {
      return f();
    } catch {
      this.decoderErrors++;
      return fallback;
    }
  }

  private flushHeld(): void {
    if (this.held.size === 0) return;
    const lines = [...this.held.values()];
    this.held.clear();
    for (const l of lines) this.write(l);
  }

  private emit(line: string): void {
    this.flushHeld();
    this.write(line);
  }
}

function prefix(t: StraceTask): string {
  return `[${String(t.pid).padStart(4)}:${String(t.tid).padStart(4)}] ${t.comm}`;
}

/** The syscall's name, or syscall_N for a number Linux does not define. */
export function syscallName(sysno: number): string {
  return SYSCALL_NAMES[sysno] ?? `syscall_${sysno}`;
}

function joinArgs(texts: readonly string[]): string {
  let s = '';
  for (const t of texts) {
    if (t === '') continue;
    s += s === '' ? t : ', ' + t;
  }
  return s;
}
