// Typed 9P2000.L messages: one discriminated union, keyed by `kind`, for both directions.
// 64-bit values that are opaque identifiers (qid.path, readdir cookies, fsid, gen,
// data_version, xattr sizes) are bigint so they survive exactly; offsets, sizes, counts and
// times are numbers and the decoder refuses values beyond Number.MAX_SAFE_INTEGER.

/** A server's unique identity for a file: type[1] version[4] path[8]. */
export interface Qid {
  type: number;
  version: number;
  path: bigint;
}

/** Rgetattr's body. Fields not set in `valid` are meaningless (servers send 0). */
export interface Attr {
  valid: number;
  qid: Qid;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  rdev: number;
  size: number;
  blksize: number;
  blocks: number;
  atimeSec: number;
  atimeNsec: number;
  mtimeSec: number;
  mtimeNsec: number;
  ctimeSec: number;
  ctimeNsec: number;
  btimeSec: number;
  btimeNsec: number;
  gen: bigint;
  dataVersion: bigint;
}

/** Tsetattr's body; `valid` (SETATTR bits) selects which fields apply. */
export interface SetAttr {
  valid: number;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  atimeSec: number;
  atimeNsec: number;
  mtimeSec: number;
  mtimeNsec: number;
}

/** One Rreaddir record: qid[13] offset[8] type[1] name[s]. `offset` is the cookie to resume after it. */
export interface Dirent {
  qid: Qid;
  offset: bigint;
  type: number;
  name: string;
}

/** Rstatfs's body (statfs(2) fields). */
export interface StatFs {
  type: number;
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  fsid: bigint;
  namelen: number;
}

/** The lock description shared by Tlock, Tgetlock and Rgetlock. */
export interface LockDesc {
  type: number;
  start: number;
  length: number;
  procId: number;
  clientId: string;
}

interface Tagged {
  tag: number;
}

export interface Tversion extends Tagged { kind: 'Tversion'; msize: number; version: string }
export interface Rversion extends Tagged { kind: 'Rversion'; msize: number; version: string }
export interface Tauth extends Tagged { kind: 'Tauth'; afid: number; uname: string; aname: string; nUname: number }
export interface Rauth extends Tagged { kind: 'Rauth'; aqid: Qid }
export interface Tattach extends Tagged {
  kind: 'Tattach';
  fid: number;
  afid: number;
  uname: string;
  aname: string;
  nUname: number;
}
export interface Rattach extends Tagged { kind: 'Rattach'; qid: Qid }
export interface Rlerror extends Tagged { kind: 'Rlerror'; ecode: number }
export interface Tflush extends Tagged { kind: 'Tflush'; oldtag: number }
export interface Rflush extends Tagged { kind: 'Rflush' }
export interface Twalk extends Tagged { kind: 'Twalk'; fid: number; newfid: number; names: string[] }
export interface Rwalk extends Tagged { kind: 'Rwalk'; qids: Qid[] }
export interface Tread extends Tagged { kind: 'Tread'; fid: number; offset: number; count: number }
export interface Rread extends Tagged { kind: 'Rread'; data: Uint8Array }
export interface Twrite extends Tagged { kind: 'Twrite'; fid: number; offset: number; data: Uint8Array }
export interface Rwrite extends Tagged { kind: 'Rwrite'; count: number }
export interface Tclunk extends Tagged { kind: 'Tclunk'; fid: number }
export interface Rclunk extends Tagged { kind: 'Rclunk' }
export interface Tremove extends Tagged { kind: 'Tremove'; fid: number }
export interface Rremove extends Tagged { kind: 'Rremove' }
export interface Tstatfs extends Tagged { kind: 'Tstatfs'; fid: number }
export interface Rstatfs extends Tagged, StatFs { kind: 'Rstatfs' }
export interface Tlopen extends Tagged { kind: 'Tlopen'; fid: number; flags: number }
export interface Rlopen extends Tagged { kind: 'Rlopen'; qid: Qid; iounit: number }
export interface Tlcreate extends Tagged {
  kind: 'Tlcreate';
  fid: number;
  name: string;
  flags: number;
  mode: number;
  gid: number;
}
export interface Rlcreate extends Tagged { kind: 'Rlcreate'; qid: Qid; iounit: number }
export interface Tsymlink extends Tagged { kind: 'Tsymlink'; dfid: number; name: string; target: string; gid: number }
export interface Rsymlink extends Tagged { kind: 'Rsymlink'; qid: Qid }
export interface Tmknod extends Tagged {
  kind: 'Tmknod';
  dfid: number;
  name: string;
  mode: number;
  major: number;
  minor: number;
  gid: number;
}
export interface Rmknod extends Tagged { kind: 'Rmknod'; qid: Qid }
export interface Trename extends Tagged { kind: 'Trename'; fid: number; dfid: number; name: string }
export interface Rrename extends Tagged { kind: 'Rrename' }
export interface Treadlink extends Tagged { kind: 'Treadlink'; fid: number }
export interface Rreadlink extends Tagged { kind: 'Rreadlink'; target: string }
export interface Tgetattr extends Tagged { kind: 'Tgetattr'; fid: number; requestMask: number }
export interface Rgetattr extends Tagged { kind: 'Rgetattr'; attr: Attr }
export interface Tsetattr extends Tagged { kind: 'Tsetattr'; fid: number; attr: SetAttr }
export interface Rsetattr extends Tagged { kind: 'Rsetattr' }
export interface Txattrwalk extends Tagged { kind: 'Txattrwalk'; fid: number; newfid: number; name: string }
export interface Rxattrwalk extends Tagged { kind: 'Rxattrwalk'; size: bigint }
export interface Txattrcreate extends Tagged {
  kind: 'Txattrcreate';
  fid: number;
  name: string;
  attrSize: bigint;
  flags: number;
}
export interface Rxattrcreate extends Tagged { kind: 'Rxattrcreate' }
export interface Treaddir extends Tagged { kind: 'Treaddir'; fid: number; offset: bigint; count: number }
export interface Rreaddir extends Tagged { kind: 'Rreaddir'; entries: Dirent[] }
export interface Tfsync extends Tagged { kind: 'Tfsync'; fid: number; datasync: number }
export interface Rfsync extends Tagged { kind: 'Rfsync' }
export interface Tlock extends Tagged, LockDesc { kind: 'Tlock'; fid: number; flags: number }
export interface Rlock extends Tagged { kind: 'Rlock'; status: number }
export interface Tgetlock extends Tagged, LockDesc { kind: 'Tgetlock'; fid: number }
export interface Rgetlock extends Tagged, LockDesc { kind: 'Rgetlock' }
export interface Tlink extends Tagged { kind: 'Tlink'; dfid: number; fid: number; name: string }
export interface Rlink extends Tagged { kind: 'Rlink' }
export interface Tmkdir extends Tagged { kind: 'Tmkdir'; dfid: number; name: string; mode: number; gid: number }
export interface Rmkdir extends Tagged { kind: 'Rmkdir'; qid: Qid }
export interface Trenameat extends Tagged {
  kind: 'Trenameat';
  oldDirFid: number;
  oldName: string;
  newDirFid: number;
  newName: string;
}
export interface Rrenameat extends Tagged { kind: 'Rrenameat' }
export interface Tunlinkat extends Tagged { kind: 'Tunlinkat'; dfid: number; name: string; flags: number }
export interface Runlinkat extends Tagged { kind: 'Runlinkat' }

/** Requests a client sends. */
export type TMessage =
  | Tversion | Tauth | Tattach | Tflush | Twalk | Tread | Twrite | Tclunk | Tremove
  | Tstatfs | Tlopen | Tlcreate | Tsymlink | Tmknod | Trename | Treadlink | Tgetattr
  | Tsetattr | Txattrwalk | Txattrcreate | Treaddir | Tfsync | Tlock | Tgetlock | Tlink
  | Tmkdir | Trenameat | Tunlinkat;

/** Replies a server sends. */
export type RMessage =
  | Rversion | Rauth | Rattach | Rlerror | Rflush | Rwalk | Rread | Rwrite | Rclunk
  | Rremove | Rstatfs | Rlopen | Rlcreate | Rsymlink | Rmknod | Rrename | Rreadlink
  | Rgetattr | Rsetattr | Rxattrwalk | Rxattrcreate | Rreaddir | Rfsync | Rlock | Rgetlock
  | Rlink | Rmkdir | Rrenameat | Runlinkat;

export type P9Message = TMessage | RMessage;

/** The message type for a kind, e.g. MessageOf<'Twalk'> is Twalk. */
export type MessageOf<K extends P9Message['kind']> = Extract<P9Message, { kind: K }>;

/** A request without its tag (the client assigns tags). */
export type Request = TMessage extends infer M ? (M extends TMessage ? Omit<M, 'tag'> : never) : never;

/** The successful reply kind for each request kind. */
export type ReplyKind<K extends TMessage['kind']> = K extends `T${infer R}` ? `R${R}` & RMessage['kind'] : never;
