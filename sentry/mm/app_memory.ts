// How kernel code reaches an application's memory. Every address comes from the app and is
// untrusted: an unmapped or protected byte gives EFAULT, never an exception.

import type { Result } from '../abi/result.js';

export interface AppMemory {
  /** Copies len bytes out of the app into a new buffer. */
  copyIn(addr: number, len: number): Result<Uint8Array>;
  /** Fills dst from the app's memory at addr. */
  readInto(addr: number, dst: Uint8Array): Result<void>;
  /** Writes src into the app's memory at addr (the VMA must be writable). */
  copyOut(addr: number, src: Uint8Array): Result<void>;
  /** Reads a NUL-terminated string of at most maxLen bytes (without the NUL); ENAMETOOLONG beyond. */
  readCString(addr: number, maxLen: number): Result<string>;
  readU32(addr: number): Result<number>;
  /** Reads a u64 as a number (exact below 2^53). */
  readU64(addr: number): Result<number>;
  writeU32(addr: number, v: number): Result<void>;
  writeU64(addr: number, v: number): Result<void>;
  /** Writes zeros. */
  zero(addr: number, len: number): Result<void>;
}
