// An inotify instance: its watches (registered in fsnotify's registry) and the queue of
// events its fd reads.

import { E } from '../abi/errno.js';
import { err, type MaybePromise, type Result } from '../abi/result.js';
import type { Task } from '../kernel/task.js';
import { IOCTL, O, POLL } from './constants.js';
import { FileDescription, type IoCtx } from './file.js';
import { IN, watches, type InotifyEvent as Event, type Watch, type WatchOwner } from './fsnotify.js';
import { WaitQueue } from './wait_queue.js';

/** Events queued per instance before IN_Q_OVERFLOW (/proc/sys/fs/inotify/max_queued_events). */
const MAX_QUEUED = 16384;
const enc = new TextEncoder();

export class InotifyFile extends FileDescription implements WatchOwner {
  private readonly queue: Event[] = [];
  private readonly byKey = new Map<string, Watch>();
  private readonly byWd = new Map<number, Watch>();
  private nextWd = 1;
  private readonly wq = new WaitQueue();

  constructor(flags: number) {
    super(O.RDONLY | (flags & O.NONBLOCK), null);
    this.flags = O.RDONLY | (flags & O.NONBLOCK);
  }

  push(e: Event): void {
    const last = this.queue[this.queue.length - 1];
    // Linux folds an event identical to the last unread one.
    if (last !== undefined && last.wd === e.wd && last.mask === e.mask && last.cookie === e.cookie && last.name === e.name) return;
    if (this.queue.length >= MAX_QUEUED) {
      if (last?.mask !== IN.Q_OVERFLOW) this.queue.push({ wd: -1, mask: IN.Q_OVERFLOW, cookie: 0, name: '' });
      return;
    }
    this.queue.push(e);
    this.wq.notify(POLL.IN | POLL.RDNORM);
  }

  addWatch(key: string, mask: number): Result<number> {
    const old = this.byKey.get(key);
    if (old !== undefined) {
      if ((mask & IN.MASK_CREATE) !== 0) return err(E.EEXIST);
      old.mask = (mask & IN.MASK_ADD) !== 0 ? old.mask | mask : mask;
      return old.wd;
    }
    const w: Watch = { wd: this.nextWd++, mask, owner: this, key };
    this.byKey.set(key, w);
    this.byWd.set(w.wd, w);
    let set = watches.get(key);
    if (set === undefined) {
      set = new Set();
      watches.set(key, set);
    }
    set.add(w);
    return w.wd;
  }

  rmWatch(wd: number): Result<void> {
    const w = this.byWd.get(wd);
    if (w === undefined) return err(E.EINVAL);
    this.removeWatch(w, true);
    return undefined;
  }

  removeWatch(w: Watch, announce: boolean): void {
    this.byKey.delete(w.key);
    this.byWd.delete(w.wd);
    const set = watches.get(w.key);
    set?.delete(w);
    if (set !== undefined && set.size === 0) watches.delete(w.key);
    if (announce) this.push({ wd: w.wd, mask: IN.IGNORED, cookie: 0, name: '' });
  }

  protected override release(): void {
    for (const w of [...this.byWd.values()]) this.removeWatch(w, false);
  }

  private static size(e: Event): number {
    // The name is NUL-padded to a multiple of the 16-byte header, as Linux pads it.
    const nameLen = e.name === '' ? 0 : (enc.encode(e.name).length + 16) & ~15;
    return 16 + nameLen;
  }

  private drain(dst: Uint8Array): Result<number> | null {
    if (this.queue.length === 0) return this.nonblocking ? err(E.EAGAIN) : null;
    if (InotifyFile.size(this.queue[0]) > dst.length) return err(E.EINVAL);
    let off = 0;
    while (this.queue.length > 0) {
      const e = this.queue[0];
      const size = InotifyFile.size(e);
      if (off + size > dst.length) break;
      const v = new DataView(dst.buffer, dst.byteOffset + off, 16);
      v.setInt32(0, e.wd, true);
      v.setUint32(4, e.mask >>> 0, true);
      v.setUint32(8, e.cookie, true);
      v.setUint32(12, size - 16, true);
      dst.fill(0, off + 16, off + size);
      if (e.name !== '') dst.set(enc.encode(e.name), off + 16);
      off += size;
      this.queue.shift();
    }
    return off;
  }

  override read(dst: Uint8Array, ctx: IoCtx): MaybePromise<Result<number>> {
    const r = this.drain(dst);
    return r !== null ? r : this.readSlow(dst, ctx);
  }

  private async readSlow(dst: Uint8Array, ctx: IoCtx): Promise<Result<number>> {
    for (;;) {
      const o = await this.wq.wait(POLL.IN, ctx.signal);
      if (o === 'interrupted') return err(E.EINTR);
      const r = this.drain(dst);
      if (r !== null) return r;
    }
  }

  override write(): Result<number> {
    return err(E.EINVAL);
  }

  override readiness(): number {
    return this.queue.length > 0 ? POLL.IN | POLL.RDNORM : 0;
  }

  override waitQueue(): WaitQueue {
    return this.wq;
  }

  override ioctl(t: Task, cmd: number, arg: number): Result<number> {
    if (cmd !== IOCTL.FIONREAD) return err(E.EINVAL);
    let n = 0;
    for (const e of this.queue) n += InotifyFile.size(e);
    const r = t.mem.writeU32(arg, n);
    return r === undefined ? 0 : r;
  }
}
