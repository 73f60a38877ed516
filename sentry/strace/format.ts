// Plain value formatting shared by the argument and struct decoders: numbers, quoted
// strings, durations. Nothing here touches app memory.

const U64 = (v: bigint): bigint => BigInt.asUintN(64, v);

/** 0x-prefixed unsigned hex of a 64-bit register value. */
export function hex(v: bigint | number): string {
  return '0x' + (typeof v === 'bigint' ? U64(v) : BigInt(Math.trunc(v))).toString(16);
}

/** A pointer argument: NULL for 0, hex otherwise. */
export function ptr(v: bigint): string {
  return v === 0n ? 'NULL' : hex(v);
}

/** The low 32 bits as a C int. */
export function int32(v: bigint): number {
  return Number(BigInt.asIntN(32, v));
}

export function uint32(v: bigint): number {
  return Number(BigInt.asUintN(32, v));
}

export function u64dec(v: bigint): string {
  return U64(v).toString();
}

export function i64dec(v: bigint): string {
  return BigInt.asIntN(64, v).toString();
}

/** Octal with Go/gVisor's 0o prefix (file modes). */
export function octal(v: number): string {
  return '0o' + v.toString(8);
}

/** An app address usable with AppMemory, or undefined when it cannot be one. */
export function addrOf(v: bigint): number | undefined {
  const u = U64(v);
  return u === 0n || u > 0x7fffffffffffn ? undefined : Number(u);
}

function escapeCode(c: number, next: number): string {
  switch (c) {
    case 0x22: return '\\"';
    case 0x5c: return '\\\\';
    case 0x0a: return '\\n';
    case 0x09: return '\\t';
    case 0x0d: return '\\r';
    case 0x0b: return '\\v';
    case 0x0c: return '\\f';
    case 0x00:
      // A following octal digit would merge into the escape, so spell it out in full.
      return next >= 0x30 && next <= 0x37 ? '\\x00' : '\\0';
  }
  return '\\x' + c.toString(16).padStart(2, '0');
}

/** Bytes as a C string literal; bytes >= 0x80 are escaped since they may not be text. */
export function quoteBytes(b: Uint8Array, truncated: boolean): string {
  let s = '"';
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    s += c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c ? String.fromCharCode(c) : escapeCode(c, b[i + 1] ?? -1);
  }
  return truncated ? s + '"...' : s + '"';
}

/** A string (already decoded from app memory) as a literal, cut at max characters. */
export function quoteString(str: string, max: number): string {
  const cut = str.length > max;
  const t = cut ? str.slice(0, max) : str;
  let s = '"';
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    // Non-ASCII file names stay readable: only control characters are escaped.
    s += (c >= 0x20 && c !== 0x7f && c !== 0x22 && c !== 0x5c) ? t[i] : escapeCode(c, t.charCodeAt(i + 1));
  }
  return cut ? s + '"...' : s + '"';
}

/** A duration like Go's time.Duration, rounded for reading: 850ns, 12.3µs, 4.5ms, 1.2s. */
export function duration(ns: number): string {
  if (ns < 1000) return `${Math.round(ns)}ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(1)}µs`;
  if (ns < 1e9) return `${(ns / 1e6).toFixed(1)}ms`;
  return `${(ns / 1e9).toFixed(2)}s`;
}
