// The other containers of a pod, in the sandbox of its first one (the "pause" container, as
// containerd's CRI and CRI-O make pods). Each gets its own root — its rootfs from a Gofer
// under an in-memory overlay, attached to no directory of the sandbox's tree, like a mount
// namespace of its own — with the sandbox's /proc, /dev and /sys bound in. Its init waits
// for `start`; everything else (kernel, network, IPC) is shared with the pod.

import { E } from '../abi/errno.js';
import { isErr } from '../abi/result.js';
import { resolveCommand } from '../boot.js';
import { Credentials } from '../kernel/credentials.js';
import type { Kernel } from '../kernel/kernel.js';
import type { ThreadGroup } from '../kernel/thread_group.js';
import { goferFilesystem } from '../fs/gofer/mount_gofer.js';
import type { GoferMounter } from './gofer_broker.js';
import { OverlayFs } from '../fs/overlay/overlay.js';
import type { FdTable } from '../vfs/fd_table.js';
import { FsContext } from '../vfs/fs_context.js';
import { Mount, type Location } from '../vfs/mount.js';
import { buildRoot, mkdirAll, mountUnder, type RootMount } from './oci_root.js';
import { capsFromWire, type ExecSpec } from './protocol.js';
import type { SandboxTerminal } from './exec_terminal.js';

interface Member {
  root: Location;
  fds: FdTable;
  fs: FsContext;
  creds: Credentials;
  path: string;
  spec: ExecSpec;
  started: boolean;
  open: () => void;
  gate: Promise<void>;
  tg?: ThreadGroup;
  /** With process.terminal: the sandbox pty relayed to the engine's, attached at run. */
  term?: SandboxTerminal;
}

/** The sandbox's own mounts a pod container sees too. */
const SHARED_MOUNTS = ['/proc', '/dev', '/dev/pts', '/sys'];

export class PodMembers {
  private readonly members = new Map<string, Member>();

  constructor(
    private readonly kernel: Kernel, private readonly parent: ThreadGroup, private readonly log: (line: string) => void,
    // A confined Sentry cannot start Gofers itself: its parent does (gofer_broker.ts).
    private readonly mountGofer: GoferMounter = goferFilesystem,
  ) {}

  /** Builds container id's root and resolves its program; its init runs at start(id). */
  async prepare(id: string, rootfs: string, readOnly: boolean, mounts: RootMount[], spec: ExecSpec, fds: FdTable, term?: SandboxTerminal): Promise<string | undefined> {
    if (this.members.has(id)) return `container ${id} is already in this sandbox`;
    const k = this.kernel;
    const lower = await this.mountGofer(rootfs, { readOnly: true, log: this.log });
    if (isErr(lower)) return `cannot serve ${rootfs}: errno ${lower.errno}`;
    const top = new Mount(new OverlayFs(lower), null, null, false);
    const root: Location = { mount: top, dentry: top.root };
    const sandboxRoot = k.vfs.rootLocation();
    const here = { fs: new FsContext(root, root, 0o022), creds: new Credentials() };
    const there = { fs: new FsContext(sandboxRoot, sandboxRoot, 0o022), creds: new Credentials() };
    for (const p of SHARED_MOUNTS) {
      const src = await k.vfs.walk(there, sandboxRoot, p, true);
      if (isErr(src)) {
        this.log(`pod container ${id}: the sandbox has no ${p} (errno ${src.errno}) to share`);
        continue;
      }
      const made = await mkdirAll(k.vfs, here, p);
      if (isErr(made)) return `cannot make ${p} in ${id}: errno ${made.errno}`;
      const m = await mountUnder(k.vfs, here, p, src.mount.fs, src.mount.readOnly, src.dentry.inode);
      if (isErr(m)) return `cannot bind ${p} into ${id}: errno ${m.errno}`;
    }
    const built = await buildRoot(k.vfs, mounts, this.log, root, this.mountGofer);
    if (built !== undefined) return built;
    if (readOnly) top.readOnly = true;
    const creds = spec.caps !== undefined ? Credentials.withCaps(spec.uid, spec.gid, spec.additionalGids, capsFromWire(spec.caps))
      : new Credentials(spec.uid, spec.gid, spec.uid, spec.gid, spec.uid, spec.gid, spec.uid, spec.gid, [...spec.additionalGids]);
    const fs = new FsContext(root, root, spec.umask ?? 0o022);
    const cwd = await k.vfs.walk({ fs, creds }, root, spec.cwd, true);
    if (isErr(cwd)) return `cannot use ${spec.cwd} as the working directory: ${k.errnoName(cwd.errno)}`;
    fs.cwd = cwd;
    const path = await resolveCommand(k.vfs, { fs, creds }, spec.args[0], spec.env);
    if (typeof path !== 'string') {
      return `exec: "${spec.args[0]}": ${path.errno === E.ENOENT ? 'executable file not found in $PATH' : k.errnoName(path.errno)}`;
    }
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    this.members.set(id, { root, fds, fs, creds, path, spec, started: false, open, gate, term });
    return undefined;
  }

  /** Runs container id's init once start(id) comes; resolves with its pid and exit status. */
  async run(id: string): Promise<{ pid: number; exited: Promise<number> } | string> {
    const m = this.members.get(id);
    if (m === undefined) return `no container ${id} in this sandbox`;
    await m.gate;
    const k = this.kernel;
    const tg = await k.spawnProcess(m.path, m.spec.args, m.spec.env, m.fds, m.fs, m.creds, this.parent);
    if (isErr(tg)) {
      m.fds.closeAll();
      void m.term?.close();
      this.members.delete(id);
      return `cannot execute ${m.spec.args[0]}: ${k.errnoName(tg.errno)}`;
    }
    m.tg = tg;
    m.term?.terminal.attach(k, tg);
    const exited = (async (): Promise<number> => {
      while (!tg.zombie && !tg.reaped) await this.parent.childEvents.wait();
      const status = tg.exitStatus ?? 0;
      if (!tg.reaped) k.reap(tg);
      await m.term?.close();
      this.members.delete(id);
      return status;
    })();
    return { pid: tg.pid, exited };
  }

  start(id: string): string | undefined {
    const m = this.members.get(id);
    if (m === undefined) return `no container ${id} in this sandbox`;
    if (m.started) return `container ${id} has already been started`;
    m.started = true;
    m.open();
    return undefined;
  }

  /** A never-started container ends without running (its creator went away). */
  abandon(id: string): void {
    const m = this.members.get(id);
    if (m === undefined || m.started) return;
    m.fds.closeAll();
    void m.term?.close();
    this.members.delete(id);
  }

  /** Container id's init and every process descended from it. */
  processes(id: string): ThreadGroup[] {
    const init = this.members.get(id)?.tg;
    if (init === undefined || init.zombie) return [];
    const out: ThreadGroup[] = [];
    const walk = (tg: ThreadGroup): void => {
      if (!tg.zombie) out.push(tg);
      for (const c of tg.children) walk(c);
    };
    walk(init);
    return out;
  }

  /** The pod container a root belongs to (exec into a pod member runs in its root). */
  rootOf(id: string): Location | undefined {
    return this.members.get(id)?.root;
  }

  has(id: string): boolean {
    return this.members.has(id);
  }
}
