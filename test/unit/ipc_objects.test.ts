// The SysV IPC building blocks without a sandbox: ids and keys, ipcperms(), atomic semop
// with SEM_UNDO, msgrcv's type selection, and the mqueue fs's priority order and status.

import { describe, expect, it } from 'vitest';
import { Credentials } from '../../sentry/kernel/credentials.js';
import { IdTable, IpcPerm, ipcGet, IPC_CREAT, IPC_EXCL } from '../../sentry/kernel/ipc/object.js';
import { MsgQueue, MsgRegistry, MSG_EXCEPT } from '../../sentry/kernel/ipc/msg.js';
import { SemRegistry, SemSet, SEM_UNDO } from '../../sentry/kernel/ipc/sem.js';
import { MqueueFs } from '../../sentry/fs/mqueue/mqueue.js';
import { ThreadGroup } from '../../sentry/kernel/thread_group.js';
import { isErr } from '../../sentry/abi/result.js';

const root = new Credentials();
const nobody = new Credentials(65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534);

describe('SysV IPC objects', () => {
  it('gives ids as seq * 32768 + index and finds objects by key', () => {
    const t = new IdTable<{ perm: IpcPerm }>(() => 10);
    const mk = (key: number) => () => ({ perm: IpcPerm.create(key, root, 0o600) });
    const a = ipcGet(t, 0x10, IPC_CREAT, root, mk(0x10), () => 0);
    const b = ipcGet(t, 0, 0, root, mk(0), () => 0);
    expect(a).toBe(0);
    expect(b).toBe(32768 + 1);
    expect(ipcGet(t, 0x10, 0, root, mk(0x10), () => 0)).toBe(0);
    const again = ipcGet(t, 0x10, IPC_CREAT | IPC_EXCL, root, mk(0x10), () => 0);
    expect(isErr(again) && again.errno).toBe(17);
    const denied = ipcGet(t, 0x10, 0o400, nobody, mk(0x10), () => 0);
    expect(isErr(denied) && denied.errno).toBe(13);
  });

  it('applies semop arrays atomically and undoes SEM_UNDO at exit', () => {
    const reg = new SemRegistry();
    const s = new SemSet(IpcPerm.create(0, root, 0o600), 2, reg);
    const tg = new ThreadGroup(42, undefined);
    expect(s.tryOps([{ num: 0, op: 3, flg: SEM_UNDO }], tg, 42).ret).toBe(0);
    const blocked = s.tryOps([{ num: 0, op: -1, flg: 0 }, { num: 1, op: -1, flg: 0 }], tg, 42);
    expect(blocked.ret).toBe(-11);
    expect(blocked.blocking?.num).toBe(1);
    expect(s.vals).toEqual([3, 0]);
    reg.exitUndo(tg);
    expect(s.vals).toEqual([0, 0]);
  });

  it('selects messages by type as msgrcv does', () => {
    const reg = new MsgRegistry();
    const q = new MsgQueue(IpcPerm.create(0, root, 0o600), 100, reg);
    for (const type of [3, 1, 2, 1]) q.send({ type, data: new Uint8Array(1) }, 1);
    expect(q.find(0, 0)).toBe(0);
    expect(q.find(2, 0)).toBe(2);
    expect(q.find(-2, 0)).toBe(1);
    expect(q.find(1, MSG_EXCEPT)).toBe(0);
    expect(q.find(7, 0)).toBe(-1);
  });

  it('keeps POSIX queues in priority order and reports their status', () => {
    const fs = new MqueueFs();
    const q = fs.createQueue('q', 0o600, root, { maxmsg: 3, msgsize: 16 });
    if (isErr(q)) throw new Error('createQueue failed');
    q.send({ prio: 1, data: new Uint8Array(2) }, 1, 0);
    q.send({ prio: 5, data: new Uint8Array(3) }, 1, 0);
    q.send({ prio: 1, data: new Uint8Array(4) }, 1, 0);
    expect(q.full).toBe(true);
    expect(q.status()).toBe('QSIZE:9          NOTIFY:0     SIGNO:0     NOTIFY_PID:0     \n');
    expect(q.take()?.prio).toBe(5);
    expect(q.take()?.data.length).toBe(2);
  });
});
