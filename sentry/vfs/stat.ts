// File attributes as the VFS passes them around, and their Linux x86-64 encodings
// (struct stat for fstat/newfstatat, struct statx, struct statfs).

export interface Stat {
  dev: bigint;
  ino: bigint;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: bigint;
  size: bigint;
  blksize: number;
  blocks: bigint;
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  /** Birth time when the filesystem knows it. */
  btimeNs?: bigint;
}

export interface Statfs {
  type: bigint;
  bsize: bigint;
  blocks: bigint;
  bfree: bigint;
  bavail: bigint;
  files: bigint;
  ffree: bigint;
  fsid: bigint;
  namelen: bigint;
  frsize: bigint;
  flags: bigint;
}

/** statfs f_flags bits. */
export const ST = { RDONLY: 1n, NOSUID: 2n, NODEV: 4n, NOEXEC: 8n } as const;

/** glibc makedev: the 64-bit dev_t encoding the kernel reports in struct stat. */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffn) << 8n) | ((ma & ~0xfffn) << 32n) | (mi & 0xffn) | ((mi & ~0xffn) << 12n);
}

export function devMajor(dev: bigint): number {
  return Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
}

export function devMinor(dev: bigint): number {
  return Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
}

const NS = 1_000_000_000n;

export const STAT_SIZE = 144;

/** struct stat (x86-64). */
export function encodeStat(st: Stat): Uint8Array {
  const b = new Uint8Array(STAT_SIZE);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, st.dev, true);
  v.setBigUint64(8, st.ino, true);
  v.setBigUint64(16, BigInt(st.nlink), true);
  v.setUint32(24, st.mode, true);
  v.setUint32(28, st.uid >>> 0, true);
  v.setUint32(32, st.gid >>> 0, true);
  v.setBigUint64(40, st.rdev, true);
  v.setBigInt64(48, st.size, true);
  v.setBigInt64(56, BigInt(st.blksize), true);
  v.setBigInt64(64, st.blocks, true);
  const times = [st.atimeNs, st.mtimeNs, st.ctimeNs];
  for (let i = 0; i < 3; i++) {
    const t = times[i];
    let sec = t / NS;
    let nsec = t % NS;
    if (nsec < 0n) {
      nsec += NS;
      sec -= 1n;
    }
    v.setBigInt64(72 + i * 16, sec, true);
    v.setBigInt64(80 + i * 16, nsec, true);
  }
  return b;
}

export const STATX_SIZE = 256;
export const STATX = {
  TYPE: 0x1, MODE: 0x2, NLINK: 0x4, UID: 0x8, GID: 0x10, ATIME: 0x20, MTIME: 0x40,
  CTIME: 0x80, INO: 0x100, SIZE: 0x200, BLOCKS: 0x400, BASIC_STATS: 0x7ff, BTIME: 0x800,
  /** Reserved bit: Linux rejects a mask containing it with EINVAL. */
  RESERVED: 0x80000000,
} as const;

function putTimestamp(v: DataView, off: number, ns: bigint): void {
  let sec = ns / NS;
  let nsec = ns % NS;
  if (nsec < 0n) {
    nsec += NS;
    sec -= 1n;
  }
  v.setBigInt64(off, sec, true);
  v.setUint32(off + 8, Number(nsec), true);
}

/** struct statx; we always fill the basic stats (Linux may return more than asked). */
export function encodeStatx(st: Stat): Uint8Array {
  const b = new Uint8Array(STATX_SIZE);
  const v = new DataView(b.buffer);
  let mask: number = STATX.BASIC_STATS;
  if (st.btimeNs !== undefined) mask |= STATX.BTIME;
  v.setUint32(0, mask, true);
  v.setUint32(4, st.blksize, true);
  v.setUint32(16, st.nlink, true);
  v.setUint32(20, st.uid >>> 0, true);
  v.setUint32(24, st.gid >>> 0, true);
  v.setUint16(28, st.mode & 0xffff, true);
  v.setBigUint64(32, st.ino, true);
  v.setBigUint64(40, st.size, true);
  v.setBigUint64(48, st.blocks, true);
  putTimestamp(v, 64, st.atimeNs);
  if (st.btimeNs !== undefined) putTimestamp(v, 80, st.btimeNs);
  putTimestamp(v, 96, st.ctimeNs);
  putTimestamp(v, 112, st.mtimeNs);
  v.setUint32(128, devMajor(st.rdev), true);
  v.setUint32(132, devMinor(st.rdev), true);
  v.setUint32(136, devMajor(st.dev), true);
  v.setUint32(140, devMinor(st.dev), true);
  return b;
}

export const STATFS_SIZE = 120;

/** struct statfs (x86-64). */
export function encodeStatfs(s: Statfs): Uint8Array {
  const b = new Uint8Array(STATFS_SIZE);
  const v = new DataView(b.buffer);
  v.setBigInt64(0, s.type, true);
  v.setBigInt64(8, s.bsize, true);
  v.setBigUint64(16, s.blocks, true);
  v.setBigUint64(24, s.bfree, true);
  v.setBigUint64(32, s.bavail, true);
  v.setBigUint64(40, s.files, true);
  v.setBigUint64(48, s.ffree, true);
  v.setBigUint64(56, s.fsid, true);
  v.setBigInt64(64, s.namelen, true);
  v.setBigInt64(72, s.frsize, true);
  v.setBigInt64(80, s.flags, true);
  return b;
}

/** A statfs for synthetic in-memory filesystems. */
export function syntheticStatfs(type: bigint, readOnly: boolean): Statfs {
  return {
    type, bsize: 4096n, blocks: 0n, bfree: 0n, bavail: 0n, files: 0n, ffree: 0n, fsid: 0n,
    namelen: 255n, frsize: 4096n, flags: readOnly ? ST.RDONLY : 0n,
  };
}

/** Nanoseconds since the epoch, now. */
export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}
