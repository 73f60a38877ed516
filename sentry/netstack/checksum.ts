// The Internet checksum (RFC 1071): a one's-complement sum of 16-bit words. Sums are kept
// unfolded as JS numbers (exact up to 2^53) so they chain across pseudo-header and payload.

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
/** Below this many bytes the word-at-a-time path is not worth its setup. */
const WIDE_MIN = 64;

/** Unfolded sum of the big-endian 16-bit words of data[start, end); an odd tail is padded with zero. */
export function sum16(data: Uint8Array, start = 0, end = data.length, initial = 0): number {
  let s = initial;
  let i = start;
  const at = data.byteOffset;
  // Words start at even addresses here, so aligned 32-bit loads hold whole words.
  if (LITTLE_ENDIAN && end - start >= WIDE_MIN && (at + start) % 2 === 0) {
    for (; (at + i) % 4 !== 0; i += 2) s += (data[i] << 8) | data[i + 1];
    const n = (end - i) >>> 2;
    const w = new Uint32Array(data.buffer, at + i, n);
    // One's complement sums commute with byte swapping (RFC 1071 2B): sum the
    // little-endian words, fold, and swap the result back.
    let le = 0;
    for (let k = 0; k < n; k++) {
      const x = w[k];
      le += (x & 0xffff) + (x >>> 16);
    }
    i += n * 4;
    le = fold(le);
    s += ((le & 0xff) << 8) | (le >>> 8);
  }
  for (; i + 1 < end; i += 2) s += (data[i] << 8) | data[i + 1];
  if (i < end) s += data[i] << 8;
  return s;
}

/** Fold carries into 16 bits. */
export function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

/** The checksum field value: complement of the folded sum. */
export function checksum(data: Uint8Array, start = 0, end = data.length, initial = 0): number {
  return ~fold(sum16(data, start, end, initial)) & 0xffff;
}

/** The pseudo-header sum a network layer gives its transports (IPv4's below, IPv6's in ipv6/). */
export type PseudoHeaderSum = (src: number, dst: number, protocol: number, length: number) => number;

/** Sum of the IPv4 pseudo-header used by TCP and UDP (RFC 793, RFC 768). */
export function pseudoHeaderSum(src: number, dst: number, protocol: number, length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
}

/** True when a received buffer (checksum field included) sums to all-ones. */
export function verifyChecksum(data: Uint8Array, start = 0, end = data.length, initial = 0): boolean {
  return fold(sum16(data, start, end, initial)) === 0xffff;
}
