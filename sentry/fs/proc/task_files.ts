// /proc/[pid] and /proc/[pid]/task/[tid]: one process's (or thread's) state as Linux
// formats it. Everything is read from the Kernel's Task/ThreadGroup/MemoryManager.

import { formatIdMap } from '../../kernel/id_map.js';
import { E } from '../../abi/errno.js';
import { err, isErr, type Result } from '../../abi/result.js';
import type { Task } from '../../kernel/task.js';
import type { ThreadGroup } from '../../kernel/thread_group.js';
import { RLIM_INFINITY } from '../../kernel/thread_group.js';
import { STACK_TOP } from '../../mm/mm.js';
import { groupCpuNs } from '../../syscalls/cpu_clocks.js';
import { PROT_EXEC, PROT_READ, PROT_WRITE } from '../../mm/vma.js';
import { O } from '../../vfs/constants.js';
import { MNT } from '../../vfs/mount.js';
import type { FileDescription } from '../../vfs/file.js';
import { devMajor, devMinor } from '../../vfs/stat.js';
import { entries, GenDir, GenFile, GenSymlink, type Entries } from './nodes.js';
import { CLK_TCK, type ProcFs } from './procfs.js';
import { nsDir } from './ns_files.js';

const PAGE = 4096;

function leaderOf(fs: ProcFs, pid: number): Task | undefined {
  return fs.group(pid)?.leader;
}

/** The task a /proc/[pid] (thread=false) or /proc/[pid]/task/[tid] directory shows. */
function taskOf(fs: ProcFs, pid: number, tid: number): Result<Task> {
  const t = pid === tid ? leaderOf(fs, pid) : fs.task(tid);
  if (t === undefined || t.tg.pid !== pid) return err(E.ESRCH);
  return t;
}

function stateLetter(t: Task): string {
  if (t.tg.zombie) return 'Z';
  if (t.state === 'dead') return 'X';
  return t.state === 'running' ? 'R' : 'S';
}

function stateName(letter: string): string {
  return { R: 'R (running)', S: 'S (sleeping)', Z: 'Z (zombie)', X: 'X (dead)' }[letter] ?? 'S (sleeping)';
}

function vmStats(t: Task): { size: number; rss: number; data: number; stack: number; exe: number } {
  let size = 0;
  let data = 0;
  let stack = 0;
  let exe = 0;
  for (const v of t.mm.vmas.list) {
    const len = v.end - v.start;
    size += len;
    if (v.name === '[stack]' || v.growsDown || v.end === STACK_TOP) stack += len;
    else if (v.file !== undefined && (v.prot & PROT_EXEC) !== 0) exe += len;
    else if (!v.shared && (v.prot & PROT_WRITE) !== 0) data += len;
  }
  return { size, rss: t.mm.residentPages * PAGE, data, stack, exe };
}

function startTicks(fs: ProcFs, tg: ThreadGroup): number {
  const k = fs.kernel;
  if (k === undefined) return 0;
  return Math.max(0, Math.floor(Number(tg.startNs - k.bootNs) / (1e9 / CLK_TCK)));
}

function statLine(fs: ProcFs, t: Task, thread: boolean): string {
  const tg = t.tg;
  const vm = vmStats(t);
  const a = t.mm.procArgs;
  // CPU time (all of it as user time): a task directory shows the thread's own.
  const ticks = (ns: bigint): string => String((ns * BigInt(CLK_TCK)) / 1_000_000_000n);
  const cpuNs = thread ? t.thread.threadCpuNs(true) ?? 0n : groupCpuNs(tg);
  const f = [
    fs.vpid(t.tid), `(${t.comm})`, stateLetter(t), tg.parent === undefined ? 0 : fs.vpid(tg.parent.pid), fs.vpid(tg.pgid), fs.vpid(tg.sid), 0, -1, 0x400000,
    0, 0, 0, 0, ticks(cpuNs), 0, ticks(tg.childrenCpuNs), 0, 20, 0, tg.tasks.size, 0, startTicks(fs, tg), vm.size, vm.rss / PAGE,
    '18446744073709551615', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, tg.exitSignal, 0, 0, 0, 0, 0, 0,
    0, 0, t.mm.brkBase, a?.argStart ?? 0, a?.argEnd ?? 0, a?.envStart ?? 0, a?.envEnd ?? 0, 0,
  ];
  return f.join(' ') + '\n';
}

function nsIds(fs: ProcFs, tg: ThreadGroup, g: number): string {
  const viewer = fs.pidNs;
  return viewer === undefined ? String(g) : tg.pidNs.chain(viewer, g).join('\t');
}

function hex16(n: bigint): string {
  return n.toString(16).padStart(16, '0');
}

function status(fs: ProcFs, t: Task): string {
  const tg = t.tg;
  const c = t.creds;
  const vm = vmStats(t);
  const kb = (n: number): string => `${Math.floor(n / 1024)}`.padStart(8) + ' kB';
  let ign = 0n;
  let cgt = 0n;
  tg.sigactions.forEach((s, i) => {
    if (i === 0) return;
    if (s.handler === 1n) ign |= 1n << BigInt(i - 1);
    else if (s.handler !== 0n) cgt |= 1n << BigInt(i - 1);
  });
  const letter = stateLetter(t);
  const fdSize = Math.max(64, 2 ** Math.ceil(Math.log2(Math.max(1, ...[...t.fds.fds()].map((x) => x + 1)))));
  return [
    `Name:\t${t.comm}`, `Umask:\t${t.fs.umask.toString(8).padStart(4, '0')}`, `State:\t${stateName(letter)}`,
    `Tgid:\t${fs.vpid(tg.pid)}`, 'Ngid:\t0', `Pid:\t${fs.vpid(t.tid)}`, `PPid:\t${tg.parent === undefined ? 0 : fs.vpid(tg.parent.pid)}`, 'TracerPid:\t0',
    `Uid:\t${c.uid}\t${c.euid}\t${c.suid}\t${c.fsuid}`, `Gid:\t${c.gid}\t${c.egid}\t${c.sgid}\t${c.fsgid}`,
    `FDSize:\t${fdSize}`, `Groups:\t${c.groups.join(' ')}${c.groups.length > 0 ? ' ' : ''}`,
    // Ids from this procfs's pid namespace down to the task's own (Linux's NS* lines).
    `NStgid:\t${nsIds(fs, tg, tg.pid)}`, `NSpid:\t${nsIds(fs, tg, t.tid)}`, `NSpgid:\t${nsIds(fs, tg, tg.pgid)}`, `NSsid:\t${nsIds(fs, tg, tg.sid)}`,
    `VmPeak:\t${kb(vm.size)}`, `VmSize:\t${kb(vm.size)}`, `VmLck:\t${kb(t.mm.locked.bytes)}`, `VmPin:\t${kb(0)}`,
    `VmHWM:\t${kb(vm.rss)}`, `VmRSS:\t${kb(vm.rss)}`, `RssAnon:\t${kb(vm.rss)}`, `RssFile:\t${kb(0)}`,
    `RssShmem:\t${kb(0)}`, `VmData:\t${kb(vm.data)}`, `VmStk:\t${kb(vm.stack)}`, `VmExe:\t${kb(vm.exe)}`,
    `VmLib:\t${kb(0)}`, `VmPTE:\t${kb(0)}`, `VmSwap:\t${kb(0)}`, `Threads:\t${tg.tasks.size}`,
    'SigQ:\t0/63704', `SigPnd:\t${hex16(0n)}`, `ShdPnd:\t${hex16(0n)}`, `SigBlk:\t${hex16(t.sigmask)}`,
    `SigIgn:\t${hex16(ign)}`, `SigCgt:\t${hex16(cgt)}`, `CapInh:\t${hex16(c.capInheritable)}`, `CapPrm:\t${hex16(c.capPermitted)}`,
    // Set-id bits are never honoured on execve here: every task behaves as with no_new_privs.
    `CapEff:\t${hex16(c.capEffective)}`, `CapBnd:\t${hex16(c.capBounding)}`, `CapAmb:\t${hex16(c.capAmbient)}`, 'NoNewPrivs:\t1',
    'Seccomp:\t0', 'Seccomp_filters:\t0', 'Cpus_allowed:\tff', 'Cpus_allowed_list:\t0-7',
    'Mems_allowed:\t1', 'Mems_allowed_list:\t0', 'voluntary_ctxt_switches:\t0', 'nonvoluntary_ctxt_switches:\t0', '',
  ].join('\n');
}

function memRange(t: Task, start: number, end: number): Result<Uint8Array> {
  if (end <= start) return new Uint8Array(0);
  return t.mm.copyIn(start, end - start);
}

function permString(prot: number, shared: boolean): string {
  return ((prot & PROT_READ) !== 0 ? 'r' : '-') + ((prot & PROT_WRITE) !== 0 ? 'w' : '-') +
    ((prot & PROT_EXEC) !== 0 ? 'x' : '-') + (shared ? 's' : 'p');
}

function maps(t: Task, smaps: boolean): string {
  const out: string[] = [];
  for (const v of t.mm.vmas.list) {
    // The loader's stack is the anonymous mapping that ends at the stack top.
    const name = v.name ?? (v.end === STACK_TOP && v.file === undefined ? '[stack]' : '');
    const head = `${v.start.toString(16).padStart(8, '0')}-${v.end.toString(16).padStart(8, '0')} ${permString(v.prot, v.shared)} ` +
      `${(v.file !== undefined ? v.fileOffset : 0).toString(16).padStart(8, '0')} 00:00 0`;
    out.push(name === '' ? head : `${head.padEnd(73)}${name}`);
    if (smaps) {
      let rss = 0;
      for (let a = v.start; a < v.end; a += PAGE) if (t.mm.pt.has(a / PAGE)) rss += PAGE;
      const kb = (n: number): string => `${n / 1024}`.padStart(8) + ' kB';
      out.push(`Size:           ${kb(v.end - v.start)}`, `KernelPageSize: ${kb(PAGE)}`, `MMUPageSize:    ${kb(PAGE)}`,
        `Rss:            ${kb(rss)}`, `Pss:            ${kb(rss)}`, `Shared_Clean:   ${kb(0)}`, `Shared_Dirty:   ${kb(0)}`,
        `Private_Clean:  ${kb(0)}`, `Private_Dirty:  ${kb(rss)}`, `Referenced:     ${kb(rss)}`, `Anonymous:      ${kb(v.file === undefined ? rss : 0)}`,
        `Swap:           ${kb(0)}`, `Locked:         ${kb(0)}`);
    }
  }
  return out.length === 0 ? '' : out.join('\n') + '\n';
}

/** The target of /proc/[pid]/fd/N: the file's path, or pipe:[ino] / anon_inode:[kind]. */
function fdTarget(fs: ProcFs, t: Task, f: FileDescription): string {
  const k = fs.kernel;
  if (f.location !== null && k !== undefined) {
    const p = k.vfs.pathOf(f.location, t.fs.root);
    return p.path;
  }
  const st = f.stat();
  if (!(st instanceof Promise) && !isErr(st)) {
    const type = st.mode & 0o170000;
    if (type === 0o010000) return `pipe:[${st.ino}]`;
    if (type === 0o140000) return `socket:[${st.ino}]`;
  }
  return `anon_inode:[${f.constructor.name}]`;
}

function limits(tg: ThreadGroup): string {
  const names: [string, string][] = [
    ['Max cpu time', 'seconds'], ['Max file size', 'bytes'], ['Max data size', 'bytes'], ['Max stack size', 'bytes'],
    ['Max core file size', 'bytes'], ['Max resident set', 'bytes'], ['Max processes', 'processes'],
    ['Max open files', 'files'], ['Max locked memory', 'bytes'], ['Max address space', 'bytes'],
    ['Max file locks', 'locks'], ['Max pending signals', 'signals'], ['Max msgqueue size', 'bytes'],
    ['Max nice priority', ''], ['Max realtime priority', ''], ['Max realtime timeout', 'us'],
  ];
  const v = (x: bigint): string => (x === RLIM_INFINITY ? 'unlimited' : x.toString());
  const rows = [`${'Limit'.padEnd(26)}${'Soft Limit'.padEnd(21)}${'Hard Limit'.padEnd(21)}${'Units'.padEnd(10)}`];
  names.forEach(([n, u], i) => {
    const r = tg.rlimits[i];
    rows.push(`${n.padEnd(26)}${v(r.cur).padEnd(21)}${v(r.max).padEnd(21)}${u.padEnd(10)}`);
  });
  return rows.join('\n') + '\n';
}

/** Paths in /proc/mounts and mountinfo escape space, tab, newline and backslash as octal. */
function escapeMountPath(p: string): string {
  return p.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

function mounts(fs: ProcFs, t: Task, info: boolean): string {
  const k = fs.kernel;
  if (k === undefined) return '';
  const out: string[] = [];
  for (const m of k.vfs.mountList(t.fs.root.mount.ns)) {
    const where = escapeMountPath(k.vfs.mountPath(m, t.fs.root));
    const type = m.fs.name === 'gofer' ? '9p' : m.fs.name === 'devfs' ? 'tmpfs' : m.fs.name;
    const src = (m.fs as { source?: string }).source ?? (type === '9p' || m.fs.name === 'devfs' ? 'none' : type);
    const rw = m.readOnly ? 'ro' : 'rw';
    const opts = [rw, ...(['nosuid', 'nodev', 'noexec'] as const).filter((_, i) => (m.flags & [MNT.NOSUID, MNT.NODEV, MNT.NOEXEC][i]!) !== 0), 'relatime'].join(',');
    if (info) {
      const st = m.fs.root().stat();
      const dev = !(st instanceof Promise) && !isErr(st) ? st.dev : 0n;
      out.push(`${m.id} ${m.parent?.id ?? m.id} ${devMajor(dev)}:${devMinor(dev)} ${escapeMountPath(m.rootPath)} ${where} ${opts} - ${type} ${src} ${rw}`);
    } else {
      out.push(`${src} ${where} ${type} ${opts} 0 0`);
    }
  }
  return out.join('\n') + '\n';
}

/** Entries of /proc/[pid] (withTasks) or /proc/[pid]/task/[tid]. */
export function taskDirEntries(fs: ProcFs, pid: number, tid: number, withTasks: boolean): Entries {
  const owner = (): { uid: number; gid: number } => fs.ownerOf(tid);
  const file = (gen: (t: Task) => Result<string | Uint8Array>, perm = 0o444) => (p: string) =>
    new GenFile(fs, p, () => {
      const t = taskOf(fs, pid, tid);
      return isErr(t) ? t : gen(t);
    }, perm, owner);
  const link = (gen: (t: Task) => Result<string>) => (p: string) =>
    new GenSymlink(fs, p, () => {
      const t = taskOf(fs, pid, tid);
      return isErr(t) ? t : gen(t);
    }, owner);
  const e = entries([
    ['stat', file((t) => statLine(fs, t, !withTasks))],
    ['statm', file((t) => {
      const vm = vmStats(t);
      return `${vm.size / PAGE} ${vm.rss / PAGE} 0 ${vm.exe / PAGE} 0 ${(vm.data + vm.stack) / PAGE} 0\n`;
    })],
    ['status', file((t) => status(fs, t))],
    ['comm', file((t) => `${t.comm}\n`, 0o644)],
    ['cmdline', file((t) => {
      const a = t.mm.procArgs;
      if (a === undefined || t.tg.zombie) return new Uint8Array(0);
      const r = memRange(t, a.argStart, a.argEnd);
      return isErr(r) ? new Uint8Array(0) : r;
    })],
    ['environ', file((t) => {
      const a = t.mm.procArgs;
      if (a === undefined || t.tg.zombie) return new Uint8Array(0);
      const r = memRange(t, a.envStart, a.envEnd);
      return isErr(r) ? new Uint8Array(0) : r;
    }, 0o400)],
    ['maps', file((t) => maps(t, false))],
    ['smaps', file((t) => maps(t, true))],
    ['limits', file((t) => limits(t.tg))],
    ['mounts', file((t) => mounts(fs, t, false))],
    ['mountinfo', file((t) => mounts(fs, t, true))],
    ['cgroup', file(() => '0::/\n')],
    ['uid_map', file((t) => formatIdMap(t.kernel.idMaps.uid))],
    ['gid_map', file((t) => formatIdMap(t.kernel.idMaps.gid))],
    ['setgroups', file(() => 'allow\n')],
    ['oom_score', file(() => '0\n')],
    ['oom_score_adj', file(() => '0\n', 0o644)],
    ['loginuid', file(() => '4294967295\n', 0o644)],
    ['wchan', file(() => '0')],
    ['io', file(() => 'rchar: 0\nwchar: 0\nsyscr: 0\nsyscw: 0\nread_bytes: 0\nwrite_bytes: 0\ncancelled_write_bytes: 0\n', 0o400)],
    ['exe', link((t) => {
      const fn = t.mm.procArgs?.execfn;
      if (fn === undefined || fn === '') return err(E.ENOENT);
      if (fn.startsWith('/')) return fn;
      const k = fs.kernel;
      const cwd = k === undefined ? '/' : k.vfs.pathOf(t.fs.cwd, t.fs.root).path;
      return (cwd === '/' ? '' : cwd) + '/' + fn.replace(/^\.\//, '');
    })],
    ['ns', (p) => nsDir(fs, p, () => taskOf(fs, pid, tid), owner)],
    ['cwd', link((t) => fs.kernel?.vfs.pathOf(t.fs.cwd, t.fs.root).path ?? '/')],
    ['root', link(() => '/')],
    ['fd', (p) => new GenDir(fs, p, () => {
      const t = taskOf(fs, pid, tid);
      const list: Entries = new Map();
      if (isErr(t)) return list;
      for (const fd of t.fds.fds()) {
        list.set(String(fd), (q) => new GenSymlink(fs, q, () => {
          const tt = taskOf(fs, pid, tid);
          if (isErr(tt)) return tt;
          const f = tt.fds.get(fd);
          return f === undefined ? err(E.ENOENT) : fdTarget(fs, tt, f);
        }, owner));
      }
      return list;
    }, 0o500, owner)],
    ['fdinfo', (p) => new GenDir(fs, p, () => {
      const t = taskOf(fs, pid, tid);
      const list: Entries = new Map();
      if (isErr(t)) return list;
      for (const fd of t.fds.fds()) {
        list.set(String(fd), (q) => new GenFile(fs, q, () => {
          const tt = taskOf(fs, pid, tid);
          if (isErr(tt)) return tt;
          const f = tt.fds.get(fd);
          if (f === undefined) return err(E.ENOENT);
          const cloexec = tt.fds.entry(fd)?.cloexec === true ? O.CLOEXEC : 0;
          return `pos:\t${f.offset}\nflags:\t0${(f.flags | cloexec).toString(8)}\nmnt_id:\t${f.location?.mount.id ?? 0}\n`;
        }, 0o444, owner));
      }
      return list;
    }, 0o500, owner)],
  ]);
  if (withTasks) {
    e.set('task', (p) => new GenDir(fs, p, () => {
      const list: Entries = new Map();
      const g = fs.group(pid);
      if (g === undefined) return list;
      for (const t of [...g.tasks].sort((a, b) => a.tid - b.tid)) {
        const id = t.tid;
        list.set(String(fs.vpid(id)), (q) => new GenDir(fs, q, () => taskDirEntries(fs, pid, id, false), 0o555, () => fs.ownerOf(id)));
      }
      return list;
    }));
  }
  return e;
}
