// What the control server does inside a sandbox: hold init at the start gate, signal,
// list and count processes, and run exec'd processes. Works on the Kernel once boot hands
// it over (startGate).

import type { GoferMounter } from './gofer_broker.js';
import { E } from '../abi/errno.js';
import { isErr } from '../abi/result.js';
import { resolveCommand } from '../boot.js';
import { Credentials } from '../kernel/credentials.js';
import type { Kernel } from '../kernel/kernel.js';
import { defaultAction } from '../kernel/signals.js';
import { ThreadGroup } from '../kernel/thread_group.js';
import { O } from '../vfs/constants.js';
import { FdTable } from '../vfs/fd_table.js';
import { FsContext } from '../vfs/fs_context.js';
import { closeSync } from 'node:fs';
import type { RootMount } from './oci_root.js';
import { PassedFdFile } from './passed_fd.js';
import { PodMembers } from './pod.js';
import { openSandboxTerminal } from './exec_terminal.js';
import type { FileDescription } from '../vfs/file.js';
import { createPipe, PIPE_CAPACITY } from '../fs/pipe/pipe.js';
import { capsFromWire, type ExecSpec, type ProcessInfo, type Stats } from './protocol.js';

export class SandboxControl {
  private kernel?: Kernel;
  private started = false;
  private openGate?: (end: number | undefined) => void;
  private readonly gate: Promise<number | undefined>;
  /** Parent of exec'd processes: outside the sandbox's tree, like runc's exec (ppid 0). */
  private readonly execParent = new ThreadGroup(0, undefined);
  private readonly bootNs = process.hrtime.bigint();
  /** The pod's other containers (created after this sandbox's first one). */
  private pod?: PodMembers;

  /** mountGofer: how the pod's later containers get Gofers (default: started by the Sentry). */
  constructor(private readonly onReady: () => void, private readonly mountGofer?: GoferMounter) {
    this.gate = new Promise((resolve) => (this.openGate = resolve));
  }

  /** For runSandbox's startGate: reports readiness, then waits for start (or a kill). */
  readonly startGate = (kernel: Kernel): Promise<number | undefined> => {
    this.kernel = kernel;
    this.pod = new PodMembers(kernel, this.execParent, kernel.log, this.mountGofer);
    this.onReady();
    return this.gate;
  };

  start(): string | undefined {
    if (this.kernel === undefined) return 'the sandbox is not ready';
    if (this.started) return 'the container has already been started';
    this.started = true;
    this.openGate?.(undefined);
    return undefined;
  }

  /** kill(2) semantics for init, or every process with all. Before start, a fatal signal ends the sandbox. */
  kill(signo: number, all: boolean, container?: string): string | undefined {
    const k = this.kernel;
    if (container !== undefined) {
      const procs = this.pod?.processes(container) ?? [];
      if (procs.length === 0) return `container ${container} is not running`;
      for (const tg of all ? procs : procs.slice(0, 1)) k?.sendSignal(tg, signo);
      return undefined;
    }
    if (!this.started) {
      const act = defaultAction(signo);
      if (signo !== 0 && act !== 'ignore' && act !== 'continue' && act !== 'stop') {
        this.started = true;
        this.openGate?.(signo & 0x7f);
      }
      return undefined;
    }
    if (k === undefined || k.init === undefined) return 'the container is not running';
    const targets = all ? [...k.groups.values()] : [k.init];
    for (const tg of targets) {
      const r = k.sendSignal(tg, signo);
      if (isErr(r)) return `kill: errno ${r.errno}`;
    }
    return undefined;
  }

  /** kill(2) of one process by its pid in the sandbox. */
  killPid(pid: number, signo: number): string | undefined {
    const tg = this.kernel?.groups.get(pid);
    if (tg === undefined || tg.zombie) return `no such process: ${pid}`;
    const r = this.kernel?.sendSignal(tg, signo);
    return r !== undefined && isErr(r) ? `kill: errno ${r.errno}` : undefined;
  }

  ps(container?: string): ProcessInfo[] {
    const k = this.kernel;
    if (k === undefined || !this.started) return [];
    const out: ProcessInfo[] = [];
    const groups = container !== undefined ? this.pod?.processes(container) ?? [] : k.groups.values();
    for (const tg of groups) {
      const leader = tg.leader;
      if (tg.zombie || leader === undefined) continue;
      out.push({ pid: tg.pid, ppid: tg.parent?.pid ?? 0, hostPid: leader.thread.hostTid, comm: leader.comm });
    }
    return out.sort((a, b) => a.pid - b.pid);
  }

  stats(): Stats {
    const k = this.kernel;
    let pids = 0;
    if (k !== undefined) for (const tg of k.groups.values()) if (!tg.zombie) pids++;
    return { pids, threads: k?.tasks.size ?? 0, uptimeNs: Number(process.hrtime.bigint() - this.bootNs) };
  }

  /**
   * Runs a process in the sandbox with the given host fds as its stdio (1 fd: a terminal
   * for all three). Resolves with its pid and a promise of its wait status, or an error.
   */
  async exec(spec: ExecSpec, hostFds: number[]): Promise<{ pid: number; exited: Promise<number> } | string> {
    const k = this.kernel;
    // startContainer hooks run before init does, in the sandbox that is ready for it.
    const ready = spec.hook !== undefined ? k !== undefined : this.started && k?.init !== undefined && !k.init.zombie;
    if (k === undefined || !ready) return 'the container is not running';
    // One fd is a terminal: the process gets a pty of the sandbox's own, relayed to it.
    const term = hostFds.length === 1 && spec.hook === undefined ? await openSandboxTerminal(k, hostFds[0]) : undefined;
    if (typeof term === 'string') {
      closeSync(hostFds[0]);
      return term;
    }
    const fds = term !== undefined ? terminalTable(term.terminal.stdio) : stdioTable(hostFds);
    if (spec.hook !== undefined) {
      // The state goes in through a pipe that holds all of it (the spec's states are small).
      const data = new TextEncoder().encode(spec.hook.stdin);
      if (data.length > PIPE_CAPACITY) {
        fds.closeAll();
        return 'hook state too large';
      }
      const pipe = createPipe();
      await pipe.write.write(data, {});
      pipe.write.decRef();
      fds.installAt(0, pipe.read);
      pipe.read.decRef();
    }
    const creds = spec.caps !== undefined ? Credentials.withCaps(spec.uid, spec.gid, spec.additionalGids, capsFromWire(spec.caps))
      : new Credentials(spec.uid, spec.gid, spec.uid, spec.gid, spec.uid, spec.gid, spec.uid, spec.gid, [...spec.additionalGids]);
    const root = spec.container !== undefined ? this.pod?.rootOf(spec.container) : k.vfs.rootLocation();
    if (root === undefined) {
      fds.closeAll();
      return `no container ${spec.container ?? ''} in this sandbox`;
    }
    const fs = new FsContext(root, root, spec.umask ?? 0o022);
    const fail = (msg: string): string => {
      fds.closeAll();
      void term?.close();
      return msg;
    };
    const cwd = await k.vfs.walk({ fs, creds }, root, spec.cwd, true);
    if (isErr(cwd)) return fail(`cannot use ${spec.cwd} as the working directory: ${k.errnoName(cwd.errno)}`);
    fs.cwd = cwd;
    const path = spec.hook !== undefined ? spec.hook.path : await resolveCommand(k.vfs, { fs, creds }, spec.args[0], spec.env);
    if (typeof path !== 'string') {
      return fail(`exec: "${spec.args[0]}": ${path.errno === E.ENOENT ? 'executable file not found in $PATH' : k.errnoName(path.errno)}`);
    }
    const tg = await k.spawnProcess(path, spec.args, spec.env, fds, fs, creds, this.execParent);
    if (isErr(tg)) return fail(`exec ${spec.args[0]}: ${k.errnoName(tg.errno)}`);
    // The process leads a session of its own: the pty becomes its controlling terminal.
    term?.terminal.attach(k, tg);
    const exited = (async (): Promise<number> => {
      while (!tg.zombie && !tg.reaped) await this.execParent.childEvents.wait();
      const status = tg.exitStatus ?? 0;
      if (!tg.reaped) k.reap(tg);
      await term?.close();
      return status;
    })();
    return { pid: tg.pid, exited };
  }

  /** A pod's next container: its root is built and its program found now; it runs at startContainer. */
  async addContainer(id: string, rootfs: string, readOnly: boolean, mounts: RootMount[], spec: ExecSpec, hostFds: number[]): Promise<string | undefined> {
    const pod = this.pod;
    if (pod === undefined || !this.started || this.kernel?.init === undefined || this.kernel.init.zombie) {
      for (const fd of hostFds) closeSync(fd);
      return 'the pod sandbox is not running';
    }
    const term = hostFds.length === 1 ? await openSandboxTerminal(this.kernel, hostFds[0]) : undefined;
    if (typeof term === 'string') {
      closeSync(hostFds[0]);
      return term;
    }
    const fds = term !== undefined ? terminalTable(term.terminal.stdio) : stdioTable(hostFds);
    const e = await pod.prepare(id, rootfs, readOnly, mounts, spec, fds, term);
    if (e !== undefined) {
      fds.closeAll();
      await term?.close();
    }
    return e;
  }

  runContainer(id: string): Promise<{ pid: number; exited: Promise<number> } | string> {
    return this.pod?.run(id) ?? Promise.resolve('the pod sandbox is not running');
  }

  startContainer(id: string): string | undefined {
    if (this.pod === undefined) return 'the pod sandbox is not running';
    return this.pod.start(id);
  }

  abandonContainer(id: string): void {
    this.pod?.abandon(id);
  }
}

/** An fd table with a terminal's three slave descriptions as 0, 1, 2 (each holding one reference). */
export function terminalTable(stdio: readonly FileDescription[]): FdTable {
  const fds = new FdTable();
  for (const [i, f] of stdio.entries()) {
    fds.installAt(i, f);
    f.decRef();
  }
  return fds;
}

/** An fd table with the passed host fds as 0, 1, 2 (one fd: a terminal for all three). */
function stdioTable(hostFds: number[]): FdTable {
  const fds = new FdTable();
  let files: PassedFdFile[];
  if (hostFds.length === 1) {
    // One host fd shared by three descriptions' slots: one reference per slot.
    const tty = new PassedFdFile(hostFds[0], O.RDWR);
    tty.incRef();
    tty.incRef();
    files = [tty, tty, tty];
  } else {
    files = hostFds.map((fd, i) => new PassedFdFile(fd, i === 0 ? O.RDONLY : O.WRONLY));
  }
  for (const [i, f] of files.entries()) {
    fds.installAt(i, f);
    f.decRef();
  }
  return fds;
}
