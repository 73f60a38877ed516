// 9P2000.L wire constants: message type numbers, qid types, attribute masks, lock values.
// Values are those of Linux's include/net/9p/9p.h and diod's protocol.md.

/** Message type numbers (the type[1] byte after size[4]). */
export const T = {
  Tlerror: 6, // never sent; listed so the number is not reused by mistake
  Rlerror: 7,
  Tstatfs: 8,
  Rstatfs: 9,
  Tlopen: 12,
  Rlopen: 13,
  Tlcreate: 14,
  Rlcreate: 15,
  Tsymlink: 16,
  Rsymlink: 17,
  Tmknod: 18,
  Rmknod: 19,
  Trename: 20,
  Rrename: 21,
  Treadlink: 22,
  Rreadlink: 23,
  Tgetattr: 24,
  Rgetattr: 25,
  Tsetattr: 26,
  Rsetattr: 27,
  Txattrwalk: 30,
  Rxattrwalk: 31,
  Txattrcreate: 32,
  Rxattrcreate: 33,
  Treaddir: 40,
  Rreaddir: 41,
  Tfsync: 50,
  Rfsync: 51,
  Tlock: 52,
  Rlock: 53,
  Tgetlock: 54,
  Rgetlock: 55,
  Tlink: 70,
  Rlink: 71,
  Tmkdir: 72,
  Rmkdir: 73,
  Trenameat: 74,
  Rrenameat: 75,
  Tunlinkat: 76,
  Runlinkat: 77,
  Tversion: 100,
  Rversion: 101,
  Tauth: 102,
  Rauth: 103,
  Tattach: 104,
  Rattach: 105,
  Tflush: 108,
  Rflush: 109,
  Twalk: 110,
  Rwalk: 111,
  Tread: 116,
  Rread: 117,
  Twrite: 118,
  Rwrite: 119,
  Tclunk: 120,
  Rclunk: 121,
  Tremove: 122,
  Rremove: 123,
} as const;

export type MessageKind = Exclude<keyof typeof T, 'Tlerror'>;

/** The protocol version string we speak. */
export const VERSION_9P2000_L = '9P2000.L';
/** What a server answers when it does not speak the client's version. */
export const VERSION_UNKNOWN = 'unknown';

export const NOTAG = 0xffff;
export const NOFID = 0xffffffff;
/** n_uname value meaning "use uname instead". */
export const NONUNAME = 0xffffffff;
/** Most names (and qids) one Twalk/Rwalk may carry. */
export const MAXWELEM = 16;

/** size[4] type[1] tag[2]. */
export const HEADER_SIZE = 7;
/** Room reserved for the header of Tread/Twrite/Rread/Treaddir; a data count never exceeds msize - IOHDRSZ. */
export const IOHDRSZ = 24;
/** Smallest msize either side accepts in version negotiation: a header plus a useful payload. */
export const MIN_MSIZE = 512;
/** Default msize we propose (and the framer's limit before negotiation). */
export const DEFAULT_MSIZE = 1024 * 1024;
/** Hard ceiling for any msize, whatever the peer proposes. */
export const MAX_MSIZE = 16 * 1024 * 1024;

/** qid.type bits. */
export const QT = {
  DIR: 0x80,
  APPEND: 0x40,
  EXCL: 0x20,
  MOUNT: 0x10,
  AUTH: 0x08,
  TMP: 0x04,
  SYMLINK: 0x02,
  LINK: 0x01,
  FILE: 0x00,
} as const;

/** Tgetattr request_mask / Rgetattr valid bits. */
export const GETATTR = {
  MODE: 0x1,
  NLINK: 0x2,
  UID: 0x4,
  GID: 0x8,
  RDEV: 0x10,
  ATIME: 0x20,
  MTIME: 0x40,
  CTIME: 0x80,
  INO: 0x100,
  SIZE: 0x200,
  BLOCKS: 0x400,
  BTIME: 0x800,
  GEN: 0x1000,
  DATA_VERSION: 0x2000,
  /** Everything up to BLOCKS: what stat(2) needs. */
  BASIC: 0x7ff,
  ALL: 0x3fff,
} as const;

/** Tsetattr valid bits. A time bit without its _SET bit means "now" on the server. */
export const SETATTR = {
  MODE: 0x1,
  UID: 0x2,
  GID: 0x4,
  SIZE: 0x8,
  ATIME: 0x10,
  MTIME: 0x20,
  CTIME: 0x40,
  ATIME_SET: 0x80,
  MTIME_SET: 0x100,
} as const;

/** Tlock/Tgetlock type. */
export const LOCK_TYPE = { RDLCK: 0, WRLCK: 1, UNLCK: 2 } as const;
/** Tlock flags. */
export const LOCK_FLAGS = { BLOCK: 1, RECLAIM: 2 } as const;
/** Rlock status. */
export const LOCK_STATUS = { SUCCESS: 0, BLOCKED: 1, ERROR: 2, GRACE: 3 } as const;

/** Tunlinkat flags: the Linux AT_REMOVEDIR value. */
export const AT_REMOVEDIR = 0x200;

/** Tlopen/Tlcreate flags are Linux (x86-64) open(2) flag values. */
export const L_O = {
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
  DIRECT: 0o40000,
  LARGEFILE: 0o100000,
  DIRECTORY: 0o200000,
  NOFOLLOW: 0o400000,
  NOATIME: 0o1000000,
  CLOEXEC: 0o2000000,
  SYNC: 0o4010000,
} as const;

/** Directory entry type byte in Rreaddir: the Linux DT_* values. */
export const DT = {
  UNKNOWN: 0,
  FIFO: 1,
  CHR: 2,
  DIR: 4,
  BLK: 6,
  REG: 8,
  LNK: 10,
  SOCK: 12,
} as const;
