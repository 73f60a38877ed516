// The namespaces a task belongs to (Linux's nsproxy) and their inode numbers, which
// /proc/[pid]/ns/* shows and setns(2) takes back as open files.

import type { MountNamespace } from '../vfs/mount.js';
import type { PidNamespace } from './pid_namespace.js';
import type { UtsNamespace } from './uts_namespace.js';
import { initialMqueue, IpcRegistries } from './ipc/registry.js';

/** Linux's fixed inode numbers of the initial namespaces (include/linux/proc_ns.h). */
export const INIT_NS_INO = {
  ipc: 0xefffffff, uts: 0xeffffffe, user: 0xeffffffd, pid: 0xeffffffc, cgroup: 0xeffffffb, time: 0xeffffffa,
  net: 4026531840, mnt: 4026531841,
} as const;

let nextIno = 4026532160;

/** A fresh namespace inode number (never reused within the sandbox). */
export function allocNsIno(): number {
  return nextIno++;
}

/** An IPC namespace: its own SysV IPC tables (and, through them, its mqueue filesystem). */
export class IpcNamespace {
  readonly kind = 'ipc' as const;
  readonly sysv: IpcRegistries;
  constructor(readonly ino: number) {
    this.sysv = new IpcRegistries(ino === INIT_NS_INO.ipc ? initialMqueue : undefined);
  }
}

/** Namespaces that cannot be created inside the sandbox (user, net, cgroup, time): identity only. */
export class FixedNamespace {
  constructor(readonly kind: 'user' | 'net' | 'cgroup' | 'time', readonly ino: number) {}
}

export type Namespace = PidNamespace | UtsNamespace | IpcNamespace | MountNamespace | FixedNamespace;

/** What /proc/[pid]/ns/<name> shows: "<type>:[ino]". */
export function nsKind(ns: Namespace): string {
  if ('level' in ns) return 'pid';
  return ns.kind;
}

/**
 * A task's namespaces. Its mount namespace is not here: it is the one its root is in
 * (t.fs.root.mount.ns), so path walks and /proc agree by construction.
 */
export class NsProxy {
  constructor(
    readonly uts: UtsNamespace,
    readonly ipc: IpcNamespace,
    /** Where this task's next children go (unshare(CLONE_NEWPID) and setns change it). */
    readonly pidForChildren: PidNamespace,
    readonly fixed: { user: FixedNamespace; net: FixedNamespace; cgroup: FixedNamespace; time: FixedNamespace },
  ) {}

  with(ch: Partial<Pick<NsProxy, 'uts' | 'ipc' | 'pidForChildren'>>): NsProxy {
    return new NsProxy(ch.uts ?? this.uts, ch.ipc ?? this.ipc, ch.pidForChildren ?? this.pidForChildren, this.fixed);
  }
}
