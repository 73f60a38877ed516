// PID namespaces. A process has a pid in its own namespace and in every ancestor up to the
// root. The kernel's tables (Kernel.tasks/groups, Task.tid, ThreadGroup.pid, pgid, sid) hold
// root-namespace ids; everything an app passes or sees is translated through the caller's
// namespace here.

import type { Task } from './task.js';
import type { ThreadGroup } from './thread_group.js';

export class PidNamespace {
  readonly level: number;
  private readonly toLocal = new Map<number, number>();
  private readonly toGlobal = new Map<number, number>();
  private next = 1;
  /** The namespace's init (pid 1, its child reaper), once its first process exists. */
  init?: ThreadGroup;
  /** init has exited: the members were killed, and new processes are refused (ENOMEM). */
  dead = false;

  constructor(readonly parent: PidNamespace | undefined, readonly ino: number) {
    this.level = parent === undefined ? 0 : parent.level + 1;
  }

  get isRoot(): boolean {
    return this.parent === undefined;
  }

  /** The id here of the process or thread with root id g, or 0 when it is not visible. */
  idOf(g: number): number {
    if (this.parent === undefined) return g;
    return this.toLocal.get(g) ?? 0;
  }

  /** The root id of the process or thread called n here, or undefined. */
  globalOf(n: number): number | undefined {
    if (this.parent === undefined) return n > 0 ? n : undefined;
    return this.toGlobal.get(n);
  }

  /** Whether ns is this namespace or one of its descendants (whose members this one sees). */
  contains(ns: PidNamespace): boolean {
    for (let n: PidNamespace | undefined = ns; n !== undefined; n = n.parent) if (n === this) return true;
    return false;
  }

  /** Gives root id g an id in this namespace and each non-root ancestor; returns the id here. */
  assign(g: number): number {
    let here = g;
    for (let n: PidNamespace | undefined = this; n !== undefined && n.parent !== undefined; n = n.parent) {
      const id = n.next++;
      n.toLocal.set(g, id);
      n.toGlobal.set(id, g);
      if (n === this) here = id;
    }
    return here;
  }

  /** Forgets root id g here and in every ancestor (the process or thread is gone). */
  release(g: number): void {
    for (let n: PidNamespace | undefined = this; n !== undefined && n.parent !== undefined; n = n.parent) {
      const id = n.toLocal.get(g);
      if (id === undefined) continue;
      n.toLocal.delete(g);
      n.toGlobal.delete(id);
    }
  }

  /** Ids from the viewer's namespace down to this one (NSpid lines), root id g. */
  chain(viewer: PidNamespace, g: number): number[] {
    const out: number[] = [];
    for (let n: PidNamespace | undefined = this; n !== undefined; n = n.parent) {
      out.unshift(n.idOf(g));
      if (n === viewer) return out;
    }
    return out;
  }
}

/** The pid (or tid, pgid, sid) with root id g as task t sees it; 0 when outside its namespace. */
export function vpid(t: Task, g: number): number {
  return t.tg.pidNs.idOf(g);
}

/** Root id of the pid n as task t names it (undefined when t's namespace has no such id). */
export function rootId(t: Task, n: number): number | undefined {
  return t.tg.pidNs.globalOf(n);
}

/** The process t calls pid n, if its namespace has one. */
export function groupByVpid(t: Task, n: number): ThreadGroup | undefined {
  const g = t.tg.pidNs.globalOf(n);
  return g === undefined ? undefined : t.kernel.groups.get(g);
}

/** The thread t calls tid n, if its namespace has one. */
export function taskByVtid(t: Task, n: number): Task | undefined {
  const g = t.tg.pidNs.globalOf(n);
  return g === undefined ? undefined : t.kernel.tasks.get(g);
}
