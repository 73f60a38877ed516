// Splits a 9P byte stream into whole frames using the size[4] prefix. A size below the
// header or above the frame limit (msize) cannot be resynchronised from, so it poisons the
// framer: the caller must close the connection.

import { E } from '../../sentry/abi/errno.js';
import { DEFAULT_MSIZE, HEADER_SIZE } from './constants.js';
import { P9ProtocolError } from './errors.js';

export interface FramerOutput {
  /** Complete frames, each an independent copy starting at its size field. */
  frames: Uint8Array[];
  /** Set once the stream is unrecoverable; no further frames will ever be produced. */
  error: P9ProtocolError | null;
}

export class Framer {
  private buf: Uint8Array = new Uint8Array(0);
  private start = 0;
  private end = 0;
  private failed: P9ProtocolError | null = null;

  constructor(private limit: number = DEFAULT_MSIZE) {}

  /** The largest frame accepted (the negotiated msize). */
  get maxFrame(): number {
    return this.limit;
  }

  setMaxFrame(limit: number): void {
    this.limit = limit;
  }

  /** Bytes held waiting for the rest of a frame. */
  get buffered(): number {
    return this.end - this.start;
  }

  get error(): P9ProtocolError | null {
    return this.failed;
  }

  push(chunk: Uint8Array): FramerOutput {
    const frames: Uint8Array[] = [];
    if (this.failed !== null) return { frames, error: this.failed };
    this.append(chunk);
    while (this.end - this.start >= 4) {
      const b = this.buf;
      const s = this.start;
      const size = (b[s]! | (b[s + 1]! << 8) | (b[s + 2]! << 16) | (b[s + 3]! << 24)) >>> 0;
      if (size < HEADER_SIZE || size > this.limit) {
        const tag = this.end - s >= HEADER_SIZE ? b[s + 5]! | (b[s + 6]! << 8) : null;
        const type = this.end - s >= 5 ? b[s + 4]! : null;
        this.failed = new P9ProtocolError(
          size < HEADER_SIZE ? E.EINVAL : E.EMSGSIZE,
          tag,
          type,
          `frame size ${size} outside [${HEADER_SIZE}, ${this.limit}]`,
        );
        this.buf = new Uint8Array(0);
        this.start = this.end = 0;
        break;
      }
      if (this.end - s < size) break;
      frames.push(b.slice(s, s + size));
      this.start = s + size;
    }
    if (this.start === this.end) this.start = this.end = 0;
    return { frames, error: this.failed };
  }

  private append(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.end + chunk.length > this.buf.length) {
      const live = this.end - this.start;
      const need = live + chunk.length;
      if (need <= this.buf.length && this.start > 0) {
        // Enough room once consumed bytes are dropped: slide the live bytes to the front.
        this.buf.copyWithin(0, this.start, this.end);
      } else {
        let cap = Math.max(4096, this.buf.length);
        while (cap < need) cap *= 2;
        const next = new Uint8Array(cap);
        next.set(this.buf.subarray(this.start, this.end));
        this.buf = next;
      }
      this.start = 0;
      this.end = live;
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }
}
