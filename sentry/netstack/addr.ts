// IPv4 addresses are unsigned 32-bit numbers; MAC addresses are 6-byte arrays.

export type Ipv4Addr = number;
export type MacAddr = Uint8Array;

export const IPV4_ANY: Ipv4Addr = 0;
export const IPV4_BROADCAST: Ipv4Addr = 0xffffffff;

/** Parse dotted-quad text; null when it is not exactly four decimal octets. */
export function parseIPv4(s: string): Ipv4Addr | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  let v = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    v = v * 256 + n;
  }
  return v >>> 0;
}

export function formatIPv4(a: Ipv4Addr): string {
  return `${a >>> 24}.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}`;
}

/** Address from text or number; NaN-free: bad text becomes 0.0.0.0 only via parseIPv4's null, which callers check. */
export function toIPv4(a: Ipv4Addr | string): Ipv4Addr | null {
  return typeof a === 'number' ? a >>> 0 : parseIPv4(a);
}

export function prefixMask(len: number): number {
  return len <= 0 ? 0 : len >= 32 ? 0xffffffff : (0xffffffff << (32 - len)) >>> 0;
}

export function inSubnet(a: Ipv4Addr, net: Ipv4Addr, len: number): boolean {
  const m = prefixMask(len);
  return ((a & m) >>> 0) === ((net & m) >>> 0);
}

export function isMulticast(a: Ipv4Addr): boolean {
  return a >>> 28 === 0xe;
}

export function isLoopbackAddr(a: Ipv4Addr): boolean {
  return a >>> 24 === 127;
}

export const MAC_BROADCAST: MacAddr = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
export const MAC_ZERO: MacAddr = new Uint8Array(6);

export function parseMac(s: string): MacAddr | null {
  const parts = s.split(':');
  if (parts.length !== 6) return null;
  const m = new Uint8Array(6);
  for (let i = 0; i < 6; i++) {
    if (!/^[0-9a-fA-F]{1,2}$/.test(parts[i])) return null;
    m[i] = parseInt(parts[i], 16);
  }
  return m;
}

export function formatMac(m: MacAddr): string {
  return Array.from(m, (b) => b.toString(16).padStart(2, '0')).join(':');
}

export function macEqual(a: MacAddr, b: MacAddr): boolean {
  for (let i = 0; i < 6; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function isMulticastMac(m: MacAddr): boolean {
  return (m[0] & 1) === 1;
}
