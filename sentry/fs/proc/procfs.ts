// procfs: the sandbox's processes and kernel state, generated from the Kernel's tables on
// every read (never the host's /proc). Host facts it shows (CPU model, memory size) are
// captured once when the filesystem is made, at boot.

import * as os from 'node:os';
import { E } from '../../abi/errno.js';
import { err, type Result } from '../../abi/result.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Task } from '../../kernel/task.js';
import type { ThreadGroup } from '../../kernel/thread_group.js';
import type { PidNamespace } from '../../kernel/pid_namespace.js';
import type { UtsName } from '../../kernel/uts_namespace.js';
import type { PathCtx } from '../../vfs/vfs.js';
import { entries, GenDir, GenFile, GenFs, GenSymlink, type Entries, type GenInode } from './nodes.js';
import { netDir } from './net.js';
import { sysvipcDir } from './sysvipc.js';
import { taskDirEntries } from './task_files.js';

export const PROC_SUPER_MAGIC = 0x9fa0n;

/** Clock ticks per second reported to apps (USER_HZ). */
export const CLK_TCK = 100;

interface HostFacts {
  cpus: { model: string; mhz: number }[];
  totalMem: number;
}

function hostFacts(): HostFacts {
  const cpus = os.cpus().map((c) => ({ model: c.model, mhz: c.speed }));
  return { cpus: cpus.length > 0 ? cpus : [{ model: 'unknown', mhz: 0 }], totalMem: os.totalmem() };
}

export class ProcFs extends GenFs {
  /** Set by boot once the kernel exists; until then /proc shows only static files. */
  kernel?: Kernel;
  readonly host = hostFacts();
  /**
   * Values the container's config sets (OCI linux.sysctl), by path under /proc/sys
   * ("net/ipv4/ip_forward"): they replace the defaults below, and keys without a default
   * appear too. The Sentry holds them; they do not reach the host.
   */
  readonly sysctl = new Map<string, string>();
  /** The pid namespace of the task that mounted this instance: the pids it shows (default: the root). */
  mountNs?: PidNamespace;

  get pidNs(): PidNamespace | undefined {
    return this.mountNs ?? this.kernel?.rootPidNs;
  }

  /** pid (root id) as this procfs names it; 0 when outside its namespace. */
  vpid(g: number): number {
    return this.pidNs?.idOf(g) ?? g;
  }

  constructor() {
    super('proc', PROC_SUPER_MAGIC);
    this.rootNode = new GenDir(this, '', () => this.rootEntries());
  }

  /** The thread groups this procfs's pid namespace sees (zombies included until reaped). */
  groups(): ThreadGroup[] {
    const k = this.kernel;
    if (k === undefined) return [];
    return [...k.groups.values()].filter((g) => !g.reaped && this.vpid(g.pid) !== 0).sort((a, b) => this.vpid(a.pid) - this.vpid(b.pid));
  }

  group(pid: number): ThreadGroup | undefined {
    const g = this.kernel?.groups.get(pid);
    return g !== undefined && !g.reaped ? g : undefined;
  }

  task(tid: number): Task | undefined {
    return this.kernel?.tasks.get(tid);
  }

  uptimeSec(): number {
    const k = this.kernel;
    return k === undefined ? 0 : Number(process.hrtime.bigint() - k.bootNs) / 1e9;
  }

  private rootEntries(): Entries {
    const e = entries([
      ['self', (p) => new GenSymlink(this, p, (ctx) => callerPid(this, ctx, false))],
      ['thread-self', (p) => new GenSymlink(this, p, (ctx) => callerPid(this, ctx, true))],
      ['mounts', (p) => new GenSymlink(this, p, () => 'self/mounts')],
      ['meminfo', (p) => new GenFile(this, p, () => this.meminfo())],
      ['cpuinfo', (p) => new GenFile(this, p, () => this.cpuinfo())],
      ['stat', (p) => new GenFile(this, p, () => this.stat())],
      ['uptime', (p) => new GenFile(this, p, () => {
        const u = this.uptimeSec();
        return `${u.toFixed(2)} ${(u * this.host.cpus.length).toFixed(2)}\n`;
      })],
      ['loadavg', (p) => new GenFile(this, p, () => {
        const n = this.kernel?.tasks.size ?? 0;
        const last = Math.max(0, ...this.groups().map((g) => this.vpid(g.pid)));
        return `0.00 0.00 0.00 ${Math.min(1, n)}/${n} ${last}\n`;
      })],
      ['filesystems', (p) => new GenFile(this, p, () => FILESYSTEMS)],
      ['version', (p) => new GenFile(this, p, () => {
        const u = this.kernel?.uts;
        return `Linux version ${u?.release ?? '4.4.0'} (tsvisor@tsvisor) (gcc) ${u?.version ?? ''}\n`;
      })],
      ['sys', (p) => new GenDir(this, p, () => this.sysEntries())],
      ['net', netDir(this, () => this.kernel)],
      ['sysvipc', sysvipcDir(this, () => this.kernel, (g) => (g === 0 ? 0 : this.vpid(g)))],
    ]);
    for (const g of this.groups()) {
      const pid = g.pid;
      e.set(String(this.vpid(pid)), (p) => new GenDir(this, p, () => taskDirEntries(this, pid, pid, true), 0o555, () => this.ownerOf(pid)));
    }
    return e;
  }

  ownerOf(tid: number): { uid: number; gid: number } {
    const t = this.task(tid) ?? this.group(tid)?.leader;
    return t === undefined ? { uid: 0, gid: 0 } : { uid: t.creds.euid, gid: t.creds.egid };
  }

  private meminfo(): string {
    const kb = (n: number): string => `${Math.floor(n / 1024)}`.padStart(8) + ' kB';
    const total = this.host.totalMem;
    const mf = this.kernel?.platform.memoryFile;
    const used = (mf?.allocated ?? 0) * 4096;
    const free = Math.max(0, total - used);
    const rows: [string, number][] = [
      ['MemTotal', total], ['MemFree', free], ['MemAvailable', free], ['Buffers', 0], ['Cached', 0],
      ['SwapCached', 0], ['Active', used], ['Inactive', 0], ['Active(anon)', used], ['Inactive(anon)', 0],
      ['Active(file)', 0], ['Inactive(file)', 0], ['Unevictable', 0], ['Mlocked', 0], ['SwapTotal', 0],
      ['SwapFree', 0], ['Dirty', 0], ['Writeback', 0], ['AnonPages', used], ['Mapped', 0], ['Shmem', 0],
      ['Slab', 0], ['SReclaimable', 0], ['SUnreclaim', 0], ['KernelStack', 0], ['PageTables', 0],
      ['CommitLimit', total], ['Committed_AS', used], ['VmallocTotal', 34359738367 * 1024], ['VmallocUsed', 0],
      ['VmallocChunk', 0], ['HugePages_Total', -1], ['HugePages_Free', -1], ['Hugepagesize', 2048 * 1024],
    ];
    return rows.map(([k, v]) => (k.startsWith('HugePages_') ? `${(k + ':').padEnd(16)}${'0'.padStart(8)}` : `${(k + ':').padEnd(16)}${kb(v)}`)).join('\n') + '\n';
  }

  private cpuinfo(): string {
    const n = this.host.cpus.length;
    return this.host.cpus.map((c, i) => [
      `processor\t: ${i}`, 'vendor_id\t: GenuineIntel', 'cpu family\t: 6', 'model\t\t: 0',
      `model name\t: ${c.model}`, 'stepping\t: 0', `cpu MHz\t\t: ${c.mhz.toFixed(3)}`, 'cache size\t: 0 KB',
      'physical id\t: 0', `siblings\t: ${n}`, `core id\t\t: ${i}`, `cpu cores\t: ${n}`, `apicid\t\t: ${i}`,
      'fpu\t\t: yes', 'fpu_exception\t: yes', 'cpuid level\t: 13', 'wp\t\t: yes',
      'flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ss syscall nx lm constant_tsc pni ssse3 cx16 sse4_1 sse4_2 popcnt',
      'bogomips\t: 0.00', 'clflush size\t: 64', 'cache_alignment\t: 64', 'address sizes\t: 46 bits physical, 48 bits virtual', '', '',
    ].join('\n')).join('');
  }

  private stat(): string {
    const ticks = Math.floor(this.uptimeSec() * CLK_TCK);
    const cpu = (name: string): string => `${name} ${ticks} 0 0 0 0 0 0 0 0 0`;
    const bootSec = Math.floor(Date.now() / 1000 - this.uptimeSec());
    const lines = [cpu('cpu ')];
    for (let i = 0; i < this.host.cpus.length; i++) lines.push(cpu(`cpu${i}`));
    const running = [...(this.kernel?.tasks.values() ?? [])].filter((t) => t.state === 'running').length;
    lines.push('intr 0', 'ctxt 0', `btime ${bootSec}`, `processes ${this.groups().length}`,
      `procs_running ${Math.max(1, running)}`, 'procs_blocked 0', 'softirq 0 0 0 0 0 0 0 0 0 0 0');
    return lines.join('\n') + '\n';
  }

  private sysEntries(): Entries {
    const key = (p: string): string => p.slice('/sys/'.length);
    const val = (f: (ctx?: object) => string) => (p: string): GenInode => new GenFile(this, p, (ctx) => (this.sysctl.get(key(p)) ?? f(ctx)) + '\n', 0o444);
    // The reader's UTS namespace (the root one when the reader is not a task).
    const readerUts = (ctx?: object): UtsName | undefined => (ctx as Partial<Task> | undefined)?.nsproxy?.uts.name ?? this.kernel?.uts;
    const dir = (list: [string, (p: string) => GenInode][]) => (p: string): GenInode => new GenDir(this, p, () => withSysctl(p, entries(list)));
    // Adds the configured keys that have no default under the directory at p.
    const withSysctl = (p: string, e: Entries): Entries => {
      const prefix = p === '/sys' ? '' : `${key(p)}/`;
      for (const k of this.sysctl.keys()) {
        if (!k.startsWith(prefix)) continue;
        const rest = k.slice(prefix.length).split('/');
        if (!e.has(rest[0])) e.set(rest[0], rest.length === 1 ? val(() => '') : dir([]));
      }
      return e;
    };
    const uts = (): NonNullable<Kernel['uts']> | undefined => this.kernel?.uts;
    return withSysctl('/sys', entries([
      ['kernel', dir([
        ['hostname', val((ctx) => readerUts(ctx)?.nodename ?? '')],
        ['domainname', val((ctx) => readerUts(ctx)?.domainname ?? '(none)')],
        ['osrelease', val(() => uts()?.release ?? '')],
        ['ostype', val(() => uts()?.sysname ?? 'Linux')],
        ['version', val(() => uts()?.version ?? '')],
        ['pid_max', val(() => '4194304')],
        ['threads-max', val(() => '63704')],
        ['ngroups_max', val(() => '65536')],
        ['cap_last_cap', val(() => '40')],
        ['overflowuid', val(() => '65534')],
        ['overflowgid', val(() => '65534')],
        ['shmmax', val(() => '18446744073692774399')],
        ['shmall', val(() => '18446744073692774399')],
        ['shmmni', val(() => '4096')],
        ['msgmax', val(() => '8192')],
        ['msgmnb', val(() => '16384')],
        ['msgmni', val(() => '32000')],
        ['sem', val(() => '32000\t1024000000\t500\t32000')],
        ['yama', dir([['ptrace_scope', val(() => '0')]])],
        ['random', dir([
          ['boot_id', val(() => this.bootId)],
          ['uuid', val(() => randomUuid())],
          ['entropy_avail', val(() => '256')],
          ['poolsize', val(() => '256')],
        ])],
      ])],
      ['vm', dir([
        ['overcommit_memory', val(() => '0')],
        ['overcommit_ratio', val(() => '50')],
        ['max_map_count', val(() => '65530')],
        ['mmap_min_addr', val(() => '65536')],
        ['swappiness', val(() => '60')],
      ])],
      ['fs', dir([
        ['file-max', val(() => '9223372036854775807')],
        ['nr_open', val(() => '1048576')],
        ['pipe-max-size', val(() => '1048576')],
        ['mqueue', dir([
          ['queues_max', val(() => '256')], ['msg_max', val(() => '10')], ['msgsize_max', val(() => '8192')],
          ['msg_default', val(() => '10')], ['msgsize_default', val(() => '8192')],
        ])],
        ['inotify', dir([
          ['max_user_watches', val(() => '8192')],
          ['max_user_instances', val(() => '128')],
          ['max_queued_events', val(() => '16384')],
        ])],
      ])],
      ['net', dir([['core', dir([['somaxconn', val(() => '4096')]])]])],
    ]));
  }

  private readonly bootId = randomUuid();
}

function randomUuid(): string {
  return globalThis.crypto.randomUUID();
}

/** /proc/self and /proc/thread-self: the caller's pid (or pid/task/tid) in this procfs's namespace. */
function callerPid(fs: ProcFs, ctx: PathCtx | undefined, thread: boolean): Result<string> {
  const t = ctx as Partial<Task> | undefined;
  if (t?.tg === undefined || t.tid === undefined) return err(E.ENOENT);
  const pid = fs.vpid(t.tg.pid);
  if (pid === 0) return err(E.ENOENT);
  return thread ? `${pid}/task/${fs.vpid(t.tid)}` : String(pid);
}

const FILESYSTEMS = [
  'nodev\tsysfs', 'nodev\ttmpfs', 'nodev\tproc', 'nodev\tdevtmpfs', 'nodev\tdevpts', 'nodev\tpipefs',
  'nodev\tsockfs', 'nodev\toverlay', 'nodev\t9p', 'nodev\tmqueue', '',
].join('\n');
