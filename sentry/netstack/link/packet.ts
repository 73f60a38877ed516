// A link endpoint on a host AF_PACKET socket bound to one interface (the sandbox end of a
// veth pair): whole Ethernet frames in and out. With batched I/O, a one-shot poll watch on
// Node's own loop says when frames are waiting; they are drained with non-blocking batched
// reads (recvmmsg) and handed to the stack in one pass, so a burst costs one wakeup and no
// thread-pool thread sits blocked on the socket. Frames sent while the stack works are queued
// and leave together (sendmmsg) once the current turn of the event loop ends. Without
// batched I/O, a blocking read on the thread pool waits for each frame (the socket's
// receive timeout lets a closed link's reader stop).

import { read, writeSync, closeSync } from 'node:fs';
import type { MacAddr } from '../addr.js';
import type { LinkEndpoint } from './link.js';

/** Ethernet header plus one VLAN tag. */
const LINK_OVERHEAD = 18;
/** Frames per batched read or write call. */
const BATCH = 64;
/** Frames taken per wakeup before the stack gets them (bounds one pass's work). */
const MAX_BURST = 1024;

/**
 * Batched frame I/O on the socket (native/net.c): recvBatch fills equal slots of buf and
 * their lengths (-1: truncated), returning the count (0: none waiting) or -errno; sendBatch
 * sends count frames laid end to end, returning how many left or -errno.
 */
export interface PacketBatchIo {
  recvBatch(fd: number, buf: Uint8Array, lens: Int32Array): number;
  sendBatch(fd: number, buf: Uint8Array, lens: Int32Array, count: number): number;
  /**
   * A readiness watch on Node's loop: watch registers cb (called once per arm that fires),
   * arm waits for readability, unwatch stops watching and closes the fd. 0 or -errno.
   */
  watch?(fd: number, cb: () => void): number;
  arm?(fd: number): number;
  unwatch?(fd: number): number;
}

export interface PacketLinkStats {
  rxFrames: number;
  txFrames: number;
  txErrors: number;
  /** Wakeups that delivered frames, and batched send calls: frames per call shows the batching. */
  rxWakeups: number;
  txCalls: number;
}

export class PacketLink implements LinkEndpoint {
  readonly kind = 'ethernet' as const;
  readonly stats: PacketLinkStats = { rxFrames: 0, txFrames: 0, txErrors: 0, rxWakeups: 0, txCalls: 0 };
  private deliver: ((frame: Uint8Array) => void) | null = null;
  private closed = false;
  private reading = false;
  private readonly slot: number;
  private readonly rxLens = new Int32Array(BATCH);
  private readonly txLens = new Int32Array(BATCH);
  private txQueue: Uint8Array[] = [];
  private flushQueued = false;
  /** Reading through the poll watch (io.watch) rather than blocking reads. */
  private watched = false;

  /**
   * fd: a bound AF_PACKET socket (owned by the link from now on). run: how received frames
   * enter the stack (the NetService advances the stack's clock first). io: batched I/O;
   * without it, one frame per call.
   */
  constructor(private readonly fd: number, readonly mtu: number, readonly mac: MacAddr,
    private readonly run: (fn: () => void) => void, private readonly io: PacketBatchIo | null = null) {
    this.slot = mtu + LINK_OVERHEAD;
  }

  attach(deliver: (frame: Uint8Array) => void): void {
    this.deliver = deliver;
    if (this.reading) return;
    const io = this.io;
    if (io?.watch !== undefined && io.arm !== undefined && io.watch(this.fd, () => this.onReadable()) === 0) {
      this.watched = true;
      this.reading = true;
      io.arm(this.fd);
      return;
    }
    this.readNext();
  }

  /** The watch fired: take every waiting frame, hand them over, wait again. */
  private onReadable(): void {
    if (this.closed) return;
    const frames: Uint8Array[] = [];
    this.drain(frames);
    if (frames.length > 0 && this.deliver !== null) {
      this.stats.rxFrames += frames.length;
      this.stats.rxWakeups++;
      const d = this.deliver;
      this.run(() => {
        for (const f of frames) d(f);
      });
    }
    if (!this.closed) this.io?.arm?.(this.fd);
  }

  private readNext(): void {
    if (this.closed) return;
    this.reading = true;
    const buf = Buffer.allocUnsafe(this.slot);
    read(this.fd, buf, 0, buf.length, null, (e, n) => {
      this.reading = false;
      if (this.closed) {
        closeSync(this.fd);
        return;
      }
      if (e === null && n > 0 && this.deliver !== null) {
        const frames = [new Uint8Array(buf.buffer, buf.byteOffset, n)];
        this.drain(frames);
        this.stats.rxFrames += frames.length;
        this.stats.rxWakeups++;
        const d = this.deliver;
        this.run(() => {
          for (const f of frames) d(f);
        });
      }
      // EAGAIN is the receive timeout; anything else (ENETDOWN) is retried the same way.
      this.readNext();
    });
  }

  /** Takes whatever else is already waiting, up to MAX_BURST frames. */
  private drain(out: Uint8Array[]): void {
    if (this.io === null) return;
    while (out.length < MAX_BURST) {
      // Each batch gets its own memory: the stack may keep views of a frame it was given.
      const buf = new Uint8Array(this.slot * BATCH);
      const n = this.io.recvBatch(this.fd, buf, this.rxLens);
      if (n <= 0) return;
      for (let i = 0; i < n; i++) {
        const len = this.rxLens[i];
        if (len > 0) out.push(buf.subarray(i * this.slot, i * this.slot + len));
      }
      if (n < BATCH) return;
    }
  }

  write(frame: Uint8Array): void {
    if (this.closed) return;
    if (this.io === null) {
      this.writeOne(frame);
      return;
    }
    this.txQueue.push(frame);
    if (this.flushQueued) return;
    this.flushQueued = true;
    // After the code now running (a whole received burst, a syscall) has queued its frames.
    queueMicrotask(() => this.flush());
  }

  private writeOne(frame: Uint8Array): void {
    try {
      writeSync(this.fd, frame);
      this.stats.txFrames++;
    } catch {
      // A full device queue (ENOBUFS) or a link going down drops the frame, as a NIC would.
      this.stats.txErrors++;
    }
  }

  /** Sends the queued frames, BATCH per call; what the device refuses is dropped. */
  private flush(): void {
    this.flushQueued = false;
    const q = this.txQueue;
    this.txQueue = [];
    if (this.closed || this.io === null) return;
    for (let at = 0; at < q.length; at += BATCH) {
      const part = q.slice(at, at + BATCH);
      let size = 0;
      for (const f of part) size += f.length;
      const buf = new Uint8Array(size);
      let off = 0;
      part.forEach((f, i) => {
        buf.set(f, off);
        off += f.length;
        this.txLens[i] = f.length;
      });
      const n = this.io.sendBatch(this.fd, buf, this.txLens, part.length);
      this.stats.txCalls++;
      const sent = Math.max(0, n);
      this.stats.txFrames += sent;
      this.stats.txErrors += part.length - sent;
    }
  }

  /** Stops reading; the fd is closed once the pending read returns. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.watched) this.io?.unwatch?.(this.fd);
    else if (!this.reading) closeSync(this.fd);
  }
}
