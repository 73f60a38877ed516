// Little-endian cursor reader and writer for 9P fields. The reader never throws: the first
// out-of-bounds or out-of-range read records a reason and every later read returns zeros, so
// a decoder can read a whole message and check `reader.bad` once at the end.

import type { Qid } from './messages.js';

const utf8Encoder = new TextEncoder();
// Names are bytes on Linux; invalid UTF-8 decodes to U+FFFD rather than failing the frame.
const utf8Decoder = new TextDecoder('utf-8', { fatal: false });

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const U64_LIMIT = 1n << 64n;
const UINT_LIMIT = { 8: 2 ** 8, 16: 2 ** 16, 32: 2 ** 32 } as const;
/** Strings up to this many bytes that are all ASCII are decoded without TextDecoder (names). */
const SHORT_ASCII = 256;
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);

export const QID_SIZE = 13;

export class WireReader {
  private readonly view: DataView;
  private pos: number;
  /** Why reading failed, or null while every read so far was in bounds. */
  bad: string | null = null;

  constructor(readonly buf: Uint8Array, start = 0, private readonly end = buf.length) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = start;
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  fail(reason: string): void {
    if (this.bad === null) this.bad = reason;
  }

  private take(n: number, what: string): number {
    if (this.bad !== null) return -1;
    if (n > this.end - this.pos) {
      this.fail(`truncated ${what}`);
      return -1;
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u8(what = 'u8'): number {
    const at = this.take(1, what);
    return at < 0 ? 0 : this.view.getUint8(at);
  }

  u16(what = 'u16'): number {
    const at = this.take(2, what);
    return at < 0 ? 0 : this.view.getUint16(at, true);
  }

  u32(what = 'u32'): number {
    const at = this.take(4, what);
    return at < 0 ? 0 : this.view.getUint32(at, true);
  }

  u64big(what = 'u64'): bigint {
    const at = this.take(8, what);
    return at < 0 ? 0n : this.view.getBigUint64(at, true);
  }

  /** An unsigned 64-bit count/offset/size that must fit a JS number exactly. */
  u64(what = 'u64'): number {
    const v = this.u64big(what);
    if (v > MAX_SAFE) {
      this.fail(`${what} too large`);
      return 0;
    }
    return Number(v);
  }

  /** A signed 64-bit value (times in seconds) that must fit a JS number exactly. */
  i64(what = 'i64'): number {
    const at = this.take(8, what);
    if (at < 0) return 0;
    const v = this.view.getBigInt64(at, true);
    if (v > MAX_SAFE || v < MIN_SAFE) {
      this.fail(`${what} out of range`);
      return 0;
    }
    return Number(v);
  }

  /** A 64-bit mask of which only the low 32 bits are defined; higher bits are ignored. */
  mask64(what = 'mask'): number {
    return Number(BigInt.asUintN(32, this.u64big(what)));
  }

  bytes(n: number, what = 'data'): Uint8Array {
    const at = this.take(n, what);
    return at < 0 ? new Uint8Array(0) : this.buf.subarray(at, at + n);
  }

  str(what = 'string'): string {
    const len = this.u16(`${what} length`);
    const at = this.take(len, what);
    if (at < 0) return '';
    const b = this.buf;
    if (len <= SHORT_ASCII) {
      let ascii = true;
      for (let i = at; i < at + len; i++) {
        if (b[i]! >= 0x80) {
          ascii = false;
          break;
        }
      }
      if (ascii) return String.fromCharCode.apply(null, b.subarray(at, at + len) as unknown as number[]);
    }
    return utf8Decoder.decode(b.subarray(at, at + len));
  }

  qid(what = 'qid'): Qid {
    const type = this.u8(what);
    const version = this.u32(what);
    const path = this.u64big(what);
    return { type, version, path };
  }
}

/** Thrown only for values our own code built wrongly (never for peer input). */
export class P9EncodeError extends RangeError {}

export class WireWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(capacity = 64) {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
  }

  get length(): number {
    return this.pos;
  }

  private room(n: number): number {
    if (this.pos + n > this.buf.length) {
      let cap = this.buf.length * 2;
      while (cap < this.pos + n) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.buf.subarray(0, this.pos));
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  private checkUint(v: number, bits: 8 | 16 | 32, what: string): void {
    // Also false for NaN and fractions (v % 1 !== 0); the limits are exact powers of two.
    if (!(v >= 0 && v < UINT_LIMIT[bits] && v % 1 === 0)) {
      throw new P9EncodeError(`9P encode: ${what}=${v} is not a u${bits}`);
    }
  }

  u8(v: number, what = 'u8'): void {
    this.checkUint(v, 8, what);
    const at = this.room(1);
    this.view.setUint8(at, v);
  }

  u16(v: number, what = 'u16'): void {
    this.checkUint(v, 16, what);
    const at = this.room(2);
    this.view.setUint16(at, v, true);
  }

  u32(v: number, what = 'u32'): void {
    this.checkUint(v, 32, what);
    const at = this.room(4);
    this.view.setUint32(at, v, true);
  }

  u64(v: number, what = 'u64'): void {
    if (!Number.isSafeInteger(v) || v < 0) throw new P9EncodeError(`9P encode: ${what}=${v} is not a safe u64`);
    const at = this.room(8);
    this.view.setBigUint64(at, BigInt(v), true);
  }

  u64big(v: bigint, what = 'u64'): void {
    if (v < 0n || v >= U64_LIMIT) throw new P9EncodeError(`9P encode: ${what}=${v} is not a u64`);
    const at = this.room(8);
    this.view.setBigUint64(at, v, true);
  }

  i64(v: number, what = 'i64'): void {
    if (!Number.isSafeInteger(v)) throw new P9EncodeError(`9P encode: ${what}=${v} is not a safe i64`);
    const at = this.room(8);
    this.view.setBigInt64(at, BigInt(v), true);
  }

  bytes(data: Uint8Array): void {
    const at = this.room(data.length);
    this.buf.set(data, at);
  }

  str(s: string, what = 'string'): void {
    const n = s.length;
    let ascii = n <= 0xffff;
    for (let i = 0; ascii && i < n; i++) if (s.charCodeAt(i) >= 0x80) ascii = false;
    if (ascii) {
      // The common case (names): bytes written in place, no encoded copy.
      this.u16(n);
      const at = this.room(n);
      const buf = this.buf;
      for (let i = 0; i < n; i++) buf[at + i] = s.charCodeAt(i);
      return;
    }
    const b = utf8Encoder.encode(s);
    if (b.length > 0xffff) throw new P9EncodeError(`9P encode: ${what} is ${b.length} bytes, over 65535`);
    this.u16(b.length);
    this.bytes(b);
  }

  qid(q: Qid): void {
    this.u8(q.type, 'qid.type');
    this.u32(q.version, 'qid.version');
    this.u64big(q.path, 'qid.path');
  }

  /** Overwrite a u32 already written (the size prefix). */
  patchU32(at: number, v: number): void {
    this.view.setUint32(at, v, true);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}
