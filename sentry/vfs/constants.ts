// Linux x86-64 ABI constants used by the VFS and the file syscalls.

/** open(2) flags (octal, as in <asm-generic/fcntl.h>). */
export const O = {
  RDONLY: 0o0,
  WRONLY: 0o1,
  RDWR: 0o2,
  ACCMODE: 0o3,
  CREAT: 0o100,
  EXCL: 0o200,
  NOCTTY: 0o400,
  TRUNC: 0o1000,
  APPEND: 0o2000,
  NONBLOCK: 0o4000,
  DSYNC: 0o10000,
  ASYNC: 0o20000,
  DIRECT: 0o40000,
  LARGEFILE: 0o100000,
  DIRECTORY: 0o200000,
  NOFOLLOW: 0o400000,
  NOATIME: 0o1000000,
  CLOEXEC: 0o2000000,
  SYNC: 0o4010000,
  PATH: 0o10000000,
  TMPFILE: 0o20200000,
} as const;

/** Status flags that F_SETFL may change (Linux SETFL_MASK). */
export const SETFL_MASK = O.APPEND | O.ASYNC | O.DIRECT | O.NOATIME | O.NONBLOCK;

/** File type bits of st_mode. */
export const S = {
  IFMT: 0o170000,
  IFSOCK: 0o140000,
  IFLNK: 0o120000,
  IFREG: 0o100000,
  IFBLK: 0o060000,
  IFDIR: 0o040000,
  IFCHR: 0o020000,
  IFIFO: 0o010000,
  ISUID: 0o4000,
  ISGID: 0o2000,
  ISVTX: 0o1000,
} as const;

export const isDir = (mode: number): boolean => (mode & S.IFMT) === S.IFDIR;
export const isReg = (mode: number): boolean => (mode & S.IFMT) === S.IFREG;
export const isLnk = (mode: number): boolean => (mode & S.IFMT) === S.IFLNK;

/** d_type values of linux_dirent64. */
export const DT = { UNKNOWN: 0, FIFO: 1, CHR: 2, DIR: 4, BLK: 6, REG: 8, LNK: 10, SOCK: 12 } as const;

/** The d_type for an st_mode. */
export function dtFromMode(mode: number): number {
  return (mode & S.IFMT) >>> 12;
}

/** *at() flags. */
export const AT = {
  FDCWD: -100,
  SYMLINK_NOFOLLOW: 0x100,
  REMOVEDIR: 0x200,
  EACCESS: 0x200,
  SYMLINK_FOLLOW: 0x400,
  NO_AUTOMOUNT: 0x800,
  EMPTY_PATH: 0x1000,
  STATX_SYNC_TYPE: 0x6000,
} as const;

export const SEEK = { SET: 0, CUR: 1, END: 2, DATA: 3, HOLE: 4 } as const;

export const F = {
  DUPFD: 0,
  GETFD: 1,
  SETFD: 2,
  GETFL: 3,
  SETFL: 4,
  DUPFD_CLOEXEC: 1030,
  FD_CLOEXEC: 1,
} as const;

/** poll(2) event bits. */
export const POLL = {
  IN: 0x001,
  PRI: 0x002,
  OUT: 0x004,
  ERR: 0x008,
  HUP: 0x010,
  NVAL: 0x020,
  RDNORM: 0x040,
  RDBAND: 0x080,
  WRNORM: 0x100,
  WRBAND: 0x200,
  RDHUP: 0x2000,
} as const;

/** Events always reported whether asked for or not. */
export const POLL_ALWAYS = POLL.ERR | POLL.HUP | POLL.NVAL;

export const IOCTL = {
  TCGETS: 0x5401,
  TCSETS: 0x5402,
  TCSETSW: 0x5403,
  TCSETSF: 0x5404,
  TIOCGPGRP: 0x540f,
  TIOCSPGRP: 0x5410,
  TIOCGWINSZ: 0x5413,
  TIOCSWINSZ: 0x5414,
  FIONREAD: 0x541b,
  FIONBIO: 0x5421,
  FIONCLEX: 0x5450,
  FIOCLEX: 0x5451,
  FIOASYNC: 0x5452,
} as const;

export const R_OK = 4;
export const W_OK = 2;
export const X_OK = 1;

export const PATH_MAX = 4096;
export const NAME_MAX = 255;
/** Symlinks followed in one walk before ELOOP (Linux MAXSYMLINKS). */
export const MAX_SYMLINKS = 40;
/** Linux caps one read/write at MAX_RW_COUNT (INT_MAX rounded down to a page). */
export const MAX_RW_COUNT = 0x7ffff000;
