// epoll(7): an interest list of (fd, file) pairs and a ready list. Each watched file's wait
// queue puts its entry on the ready list when a watched event is notified; epoll_wait then
// re-checks the file's readiness(). Level-triggered entries stay on the ready list while
// ready, edge-triggered ones leave it once reported, EPOLLONESHOT ones are disabled until
// EPOLL_CTL_MOD. An epoll file is itself pollable (readable when something is ready), so
// epoll sets nest. Like Linux, an entry holds no reference on its file: it goes away when
// the file's last reference does.

import { E } from '../../abi/errno.js';
import { err, type Result } from '../../abi/result.js';
import { O, POLL, POLL_ALWAYS } from '../../vfs/constants.js';
import { FileDescription } from '../../vfs/file.js';
import type { Stat } from '../../vfs/stat.js';
import { WaitQueue, type Waiter } from '../../vfs/wait_queue.js';
import { anonInodeStat } from '../eventfd/anon_inode.js';

export const EPOLL = {
  CTL_ADD: 1,
  CTL_DEL: 2,
  CTL_MOD: 3,
  EXCLUSIVE: 1 << 28,
  WAKEUP: 1 << 29,
  ONESHOT: 1 << 30,
  ET: 1 << 31,
} as const;

/** Linux's EPOLL_MAX_NESTS: deeper chains of epoll sets are refused with ELOOP. */
const MAX_NESTS = 4;
const CONTROL_BITS = EPOLL.EXCLUSIVE | EPOLL.WAKEUP | EPOLL.ONESHOT | EPOLL.ET;

interface Entry {
  readonly fd: number;
  readonly file: FileDescription;
  /** Requested events and control bits (EPOLLET, EPOLLONESHOT...). */
  events: number;
  data: bigint;
  /** EPOLLONESHOT fired: nothing is reported until EPOLL_CTL_MOD re-arms it. */
  disabled: boolean;
  ready: boolean;
  waiter: Waiter;
}

export interface EpollEvent {
  events: number;
  data: bigint;
}

export class EpollFile extends FileDescription {
  private readonly queue = new WaitQueue();
  /** Keyed by file then fd: one file may be watched under several fds (dup). */
  private readonly interest = new Map<FileDescription, Map<number, Entry>>();
  private readonly readyList = new Set<Entry>();

  constructor(flags: number) {
    super(O.RDWR | flags, null);
    // Anonymous files are not O_LARGEFILE (F_GETFL shows O_RDWR and O_NONBLOCK only).
    this.flags &= ~O.LARGEFILE;
  }

  override stat(): Result<Stat> {
    return anonInodeStat();
  }
  override waitQueue(): WaitQueue {
    return this.queue;
  }

  protected override release(): void {
    for (const byFd of this.interest.values()) for (const e of byFd.values()) e.waiter.cancel();
    this.interest.clear();
    this.readyList.clear();
  }

  /** Readable when at least one entry would be reported now. */
  override readiness(): number {
    for (const e of this.readyList) {
      if (this.pending(e) !== 0) return POLL.IN | POLL.RDNORM;
    }
    return 0;
  }

  override prepareWait(): void {
    for (const byFd of this.interest.values()) {
      for (const e of byFd.values()) if (!e.disabled) e.file.prepareWait(e.events);
    }
  }

  /** The events e would report now (0 if none, or if its file is gone). */
  private pending(e: Entry): number {
    if (e.disabled) return 0;
    if (e.file.refCount === 0) {
      this.remove(e);
      return 0;
    }
    return e.file.readiness() & ((e.events & ~CONTROL_BITS) | POLL_ALWAYS);
  }

  private markReady(e: Entry): void {
    if (e.disabled || e.ready) return;
    e.ready = true;
    this.readyList.add(e);
    this.queue.notify(POLL.IN | POLL.RDNORM);
  }

  private remove(e: Entry): void {
    e.waiter.cancel();
    this.readyList.delete(e);
    e.ready = false;
    const byFd = this.interest.get(e.file);
    byFd?.delete(e.fd);
    if (byFd?.size === 0) this.interest.delete(e.file);
  }

  private entryFor(fd: number, file: FileDescription): Entry | undefined {
    const e = this.interest.get(file)?.get(fd);
    if (e !== undefined && file.refCount === 0) {
      this.remove(e);
      return undefined;
    }
    return e;
  }

  /** Whether other is this set or (transitively) watched by it: adding it would loop. */
  private reaches(target: EpollFile, depth: number): Result<void> {
    if (depth > MAX_NESTS) return err(E.ELOOP);
    for (const file of this.interest.keys()) {
      if (!(file instanceof EpollFile)) continue;
      if (file === target) return err(E.ELOOP);
      const r = file.reaches(target, depth + 1);
      if (r !== undefined) return r;
    }
    return undefined;
  }

  /** epoll_ctl(2) on an already resolved target file. */
  ctl(op: number, fd: number, file: FileDescription, ev: EpollEvent): Result<void> {
    if (file === this) return err(E.EINVAL);
    // Files that cannot change readiness (regular files, directories) cannot be watched.
    const q = file.waitQueue();
    if (q === null) return err(E.EPERM);
    const existing = this.entryFor(fd, file);
    switch (op) {
      case EPOLL.CTL_ADD: {
        if (existing !== undefined) return err(E.EEXIST);
        if ((ev.events & EPOLL.EXCLUSIVE) !== 0 && (ev.events & ~(EPOLL.EXCLUSIVE | EPOLL.ET | EPOLL.WAKEUP | POLL.IN | POLL.OUT | POLL.ERR | POLL.HUP)) !== 0) {
          return err(E.EINVAL);
        }
        if (file instanceof EpollFile) {
          if ((ev.events & EPOLL.EXCLUSIVE) !== 0) return err(E.EINVAL);
          const loop = file.reaches(this, 1);
          if (loop !== undefined) return loop;
        }
        const e: Entry = { fd, file, events: ev.events, data: ev.data, disabled: false, ready: false, waiter: { cancel: () => {} } };
        e.waiter = q.subscribe(0xffffffff, (events) => {
          if ((events & ((e.events & ~CONTROL_BITS) | POLL_ALWAYS)) !== 0) this.markReady(e);
        });
        let byFd = this.interest.get(file);
        if (byFd === undefined) this.interest.set(file, (byFd = new Map()));
        byFd.set(fd, e);
        file.prepareWait(ev.events);
        if (this.pending(e) !== 0) this.markReady(e);
        return undefined;
      }
      case EPOLL.CTL_MOD: {
        if (existing === undefined) return err(E.ENOENT);
        if ((ev.events & EPOLL.EXCLUSIVE) !== 0 || (existing.events & EPOLL.EXCLUSIVE) !== 0) return err(E.EINVAL);
        existing.events = ev.events;
        existing.data = ev.data;
        existing.disabled = false;
        file.prepareWait(ev.events);
        if (this.pending(existing) !== 0) this.markReady(existing);
        return undefined;
      }
      case EPOLL.CTL_DEL:
        if (existing === undefined) return err(E.ENOENT);
        this.remove(existing);
        return undefined;
      default:
        return err(E.EINVAL);
    }
  }

  /** Takes up to max ready events off the ready list (no waiting). */
  collect(max: number): EpollEvent[] {
    const out: EpollEvent[] = [];
    for (const e of [...this.readyList]) {
      if (out.length >= max) break;
      const r = this.pending(e);
      this.readyList.delete(e);
      e.ready = false;
      if (r === 0) continue;
      out.push({ events: r, data: e.data });
      if ((e.events & EPOLL.ONESHOT) !== 0) e.disabled = true;
      else if ((e.events & EPOLL.ET) === 0) {
        // Level-triggered: still ready, so back at the tail (fairness between entries).
        e.ready = true;
        this.readyList.add(e);
      }
    }
    return out;
  }
}
