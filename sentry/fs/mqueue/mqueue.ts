// POSIX message queues (man 7 mq_overview): the `mqueue` filesystem one IPC namespace owns.
// Each queue is a file in its root; reading the file gives the queue's status line, and
// its descriptions poll readable while messages wait and writable while there is room.

import { E } from '../../abi/errno.js';
import { err, type Result } from '../../abi/result.js';
import type { Credentials } from '../../kernel/credentials.js';
import { dtFromMode, O, POLL, S } from '../../vfs/constants.js';
import { FileDescription, type IoCtx } from '../../vfs/file.js';
import type { DirEntry, Filesystem, Inode, Opener } from '../../vfs/inode.js';
import type { Location } from '../../vfs/mount.js';
import { nowNs, syntheticStatfs, type Stat, type Statfs } from '../../vfs/stat.js';
import { allocAnonDev } from '../../vfs/synthetic.js';
import { WaitQueue } from '../../vfs/wait_queue.js';

export const MQUEUE_MAGIC = 0x19800202n;

/** /proc/sys/fs/mqueue defaults (Linux's). */
export interface MqLimits {
  queuesMax: number;
  msgMax: number;
  msgsizeMax: number;
  msgDefault: number;
  msgsizeDefault: number;
}

export interface MqMessage {
  prio: number;
  data: Uint8Array;
}

/** mq_notify's registration: who gets told, and how. */
export interface MqNotify {
  tgid: number;
  /** SIGEV_SIGNAL's signal, or 0 for SIGEV_NONE. */
  signo: number;
  value: bigint;
  /** Called when a message arrives on an empty queue nobody waits on. */
  fire: (senderPid: number, senderUid: number) => void;
}

interface Receiver {
  complete: (m: MqMessage) => void;
}

let nextIno = 2n;

abstract class MqNode implements Inode {
  readonly ino = nextIno++;
  readonly key: string;
  readonly ctimeNs = nowNs();
  constructor(readonly fs: MqueueFs, readonly mode: number, readonly uid: number, readonly gid: number) {
    this.key = `mqueue:${fs.dev}:${this.ino}`;
  }
  protected get size(): bigint {
    return 0n;
  }
  stat(): Result<Stat> {
    return {
      dev: this.fs.dev, ino: this.ino, mode: this.mode, nlink: (this.mode & S.IFMT) === S.IFDIR ? 2 : 1, uid: this.uid,
      gid: this.gid, rdev: 0n, size: this.size, blksize: 4096, blocks: 0n, atimeNs: this.ctimeNs, mtimeNs: this.ctimeNs, ctimeNs: this.ctimeNs,
    };
  }
}

/** One queue: messages kept highest priority first, FIFO within a priority. */
export class MqQueue extends MqNode {
  readonly msgs: MqMessage[] = [];
  bytes = 0;
  notify?: MqNotify;
  readonly receivers: Receiver[] = [];
  /** Parked senders, retried when room frees up. */
  readonly senders = new Set<() => void>();
  readonly events = new WaitQueue();

  constructor(fs: MqueueFs, perm: number, creds: Credentials, readonly maxmsg: number, readonly msgsize: number) {
    super(fs, S.IFREG | (perm & 0o777), creds.fsuid, creds.fsgid);
  }

  protected override get size(): bigint {
    return BigInt(this.bytes);
  }

  get full(): boolean {
    return this.msgs.length >= this.maxmsg;
  }

  /** Adds m (room was checked): a parked receiver takes it at once, else it is queued and mq_notify may fire. */
  send(m: MqMessage, pid: number, uid: number): void {
    const r = this.receivers.shift();
    if (r !== undefined) {
      r.complete(m);
      return;
    }
    const wasEmpty = this.msgs.length === 0;
    let i = this.msgs.length;
    while (i > 0 && this.msgs[i - 1].prio < m.prio) i--;
    this.msgs.splice(i, 0, m);
    this.bytes += m.data.length;
    this.events.notify(POLL.IN | POLL.RDNORM);
    if (wasEmpty && this.notify !== undefined) {
      const n = this.notify;
      this.notify = undefined;
      n.fire(pid, uid);
    }
  }

  take(): MqMessage | undefined {
    const m = this.msgs.shift();
    if (m === undefined) return undefined;
    this.bytes -= m.data.length;
    this.events.notify(POLL.OUT | POLL.WRNORM);
    const s = [...this.senders];
    this.senders.clear();
    for (const f of s) f();
    return m;
  }

  readiness(): number {
    let m = 0;
    if (this.msgs.length > 0) m |= POLL.IN | POLL.RDNORM;
    if (!this.full) m |= POLL.OUT | POLL.WRNORM;
    return m;
  }

  status(): string {
    const n = this.notify;
    return `QSIZE:${String(this.bytes).padEnd(10)} NOTIFY:${String(n === undefined ? 0 : n.signo === 0 ? 1 : 0).padEnd(5)} ` +
      `SIGNO:${String(n?.signo ?? 0).padEnd(5)} NOTIFY_PID:${String(n?.tgid ?? 0).padEnd(6)}\n`;
  }

  open(loc: Location, flags: number, opener?: Opener): Result<FileDescription> {
    const f = new MqFile(flags, loc, this);
    f.ownerTgid = (opener?.ctx as { tg?: { pid: number } } | undefined)?.tg?.pid ?? 0;
    return f;
  }
}

/** An open queue (mq_open's descriptor, or an open(2) of the file). */
export class MqFile extends FileDescription {
  constructor(flags: number, loc: Location | null, readonly queue: MqQueue) {
    super(flags, loc);
  }

  override stat(): Result<Stat> {
    return this.queue.stat();
  }

  override read(dst: Uint8Array, _ctx: IoCtx): Result<number> {
    const s = new TextEncoder().encode(this.queue.status());
    if (this.offset >= s.length) return 0;
    const n = Math.min(dst.length, s.length - this.offset);
    dst.set(s.subarray(this.offset, this.offset + n));
    this.offset += n;
    return n;
  }

  override readiness(): number {
    return this.queue.readiness();
  }

  override waitQueue(): WaitQueue {
    return this.queue.events;
  }

  /** Closing the descriptor that registered mq_notify drops the registration (Linux: mqueue_flush_file). */
  protected override release(): void {
    const n = this.queue.notify;
    if (n !== undefined && n.tgid === this.ownerTgid) this.queue.notify = undefined;
  }

  /** The process that opened it (close drops its notification). */
  ownerTgid = 0;
}

/** The root directory: queues by name; mq_open creates, unlink removes. */
class MqRoot extends MqNode {
  readonly queues = new Map<string, MqQueue>();

  constructor(fs: MqueueFs) {
    super(fs, S.IFDIR | S.ISVTX | 0o777, 0, 0);
  }

  lookup(name: string): Result<Inode> {
    return this.queues.get(name) ?? err(E.ENOENT);
  }

  readdir(): Result<DirEntry[]> {
    return [...this.queues].map(([name, q]) => ({ name, ino: q.ino, type: dtFromMode(q.mode) }));
  }

  /** open(2) with O_CREAT on the filesystem: a queue with the default attributes. */
  create(name: string, mode: number, creds: Credentials): Result<Inode> {
    const q = this.fs.createQueue(name, mode, creds, undefined);
    return q;
  }

  unlink(name: string): Result<void> {
    if (!this.queues.delete(name)) return err(E.ENOENT);
    return undefined;
  }
}

export class MqueueFs implements Filesystem {
  readonly name = 'mqueue';
  readonly readOnly = false;
  readonly dev = allocAnonDev();
  readonly limits: MqLimits = { queuesMax: 256, msgMax: 10, msgsizeMax: 8192, msgDefault: 10, msgsizeDefault: 8192 };
  private readonly rootDir = new MqRoot(this);

  root(): Inode {
    return this.rootDir;
  }

  statfs(): Result<Statfs> {
    return syntheticStatfs(MQUEUE_MAGIC, false);
  }

  get queues(): Map<string, MqQueue> {
    return this.rootDir.queues;
  }

  /** A new queue (the caller validated attr); ENOSPC past queues_max without CAP_SYS_RESOURCE. */
  createQueue(name: string, mode: number, creds: Credentials, attr: { maxmsg: number; msgsize: number } | undefined): Result<MqQueue> {
    if (this.queues.has(name)) return err(E.EEXIST);
    if (this.queues.size >= this.limits.queuesMax && !creds.hasCap(24)) return err(E.ENOSPC);
    const q = new MqQueue(this, mode, creds, attr?.maxmsg ?? this.limits.msgDefault, attr?.msgsize ?? this.limits.msgsizeDefault);
    this.queues.set(name, q);
    return q;
  }
}

export const MQ_O_FLAGS = O.ACCMODE | O.NONBLOCK;
