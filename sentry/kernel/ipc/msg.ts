// System V message queues (man 2 msgop): typed messages in arrival order, bounded by the
// queue's msg_qbytes; senders and receivers park when the queue is full or has nothing
// that matches, and a send hands its message straight to a matching parked receiver.

import { E } from '../../abi/errno.js';
import { IdTable, nowSec, type IpcObject, type IpcPerm } from './object.js';

export const MSGMAX = 8192;
export const MSGMNB = 16384;
export const MSGMNI = 32000;
export const MSG_NOERROR = 0o10000;
export const MSG_EXCEPT = 0o20000;
export const MSG_COPY = 0o40000;
export const MSG_STAT = 11;
export const MSG_INFO = 12;
export const MSG_STAT_ANY = 13;

export interface Message {
  type: number;
  data: Uint8Array;
}

interface Receiver {
  type: number;
  flags: number;
  maxSize: number;
  pid: number;
  /** Called with the message it takes (or an errno). */
  complete: (r: Message | number) => void;
}

export class MsgQueue implements IpcObject {
  readonly msgs: Message[] = [];
  cbytes = 0;
  stime = 0;
  rtime = 0;
  lspid = 0;
  lrpid = 0;
  removed = false;
  readonly receivers: Receiver[] = [];
  /** Parked senders: retried when space frees up. */
  readonly senders = new Set<() => void>();

  constructor(readonly perm: IpcPerm, public qbytes: number, private readonly owner: MsgRegistry) {}

  fits(size: number): boolean {
    return size + this.cbytes <= this.qbytes && 1 + this.msgs.length <= this.qbytes;
  }

  /** Index of the message msgrcv's (type, flags) selects, or -1. */
  find(type: number, flags: number): number {
    if (type === 0) return this.msgs.length > 0 ? 0 : -1;
    if (type > 0) {
      const except = (flags & MSG_EXCEPT) !== 0;
      return this.msgs.findIndex((m) => (m.type === type) !== except);
    }
    let best = -1;
    for (let i = 0; i < this.msgs.length; i++) {
      const m = this.msgs[i];
      if (m.type <= -type && (best < 0 || m.type < this.msgs[best].type)) best = i;
    }
    return best;
  }

  /** Queues m from pid (the caller checked fits()), or gives it to a parked receiver. */
  send(m: Message, pid: number): void {
    this.lspid = pid;
    this.stime = nowSec();
    for (const r of this.receivers) {
      if (!matches(m, r.type, r.flags)) continue;
      if (m.data.length > r.maxSize && (r.flags & MSG_NOERROR) === 0) {
        // Linux wakes it with E2BIG and keeps the message queued.
        this.dropReceiver(r);
        r.complete(-E.E2BIG);
        continue;
      }
      this.dropReceiver(r);
      this.lrpid = r.pid;
      this.rtime = nowSec();
      r.complete(m);
      return;
    }
    this.msgs.push(m);
    this.cbytes += m.data.length;
  }

  take(i: number, pid: number): Message {
    const [m] = this.msgs.splice(i, 1);
    this.cbytes -= m.data.length;
    this.lrpid = pid;
    this.rtime = nowSec();
    this.spaceFreed();
    return m;
  }

  spaceFreed(): void {
    const s = [...this.senders];
    this.senders.clear();
    for (const f of s) f();
  }

  addReceiver(r: Receiver): () => void {
    this.receivers.push(r);
    return () => this.dropReceiver(r);
  }

  private dropReceiver(r: Receiver): void {
    const i = this.receivers.indexOf(r);
    if (i >= 0) this.receivers.splice(i, 1);
  }

  /** IPC_RMID: every parked sender and receiver fails with EIDRM. */
  remove(): void {
    this.removed = true;
    this.owner.table.remove(this);
    for (const r of this.receivers.splice(0)) r.complete(-E.EIDRM);
    this.spaceFreed();
  }
}

function matches(m: Message, type: number, flags: number): boolean {
  if (type === 0) return true;
  if (type > 0) return (m.type === type) !== ((flags & MSG_EXCEPT) !== 0);
  return m.type <= -type;
}

export class MsgRegistry {
  readonly table = new IdTable<MsgQueue>(() => this.msgmni);
  msgmax = MSGMAX;
  msgmnb = MSGMNB;
  msgmni = MSGMNI;

  /** Messages and bytes queued in the namespace (MSG_INFO). */
  totals(): { msgs: number; bytes: number } {
    let msgs = 0;
    let bytes = 0;
    for (const q of this.table.values()) {
      msgs += q.msgs.length;
      bytes += q.cbytes;
    }
    return { msgs, bytes };
  }

  destroyAll(): void {
    for (const q of this.table.values()) q.remove();
  }
}
