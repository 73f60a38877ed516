// /proc/sysvipc/{shm,sem,msg}: the reader's IPC namespace's objects, formatted as Linux's
// ipc/*.c proc interfaces print them (what ipcs(1) parses).

import type { IpcRegistries } from '../../kernel/ipc/registry.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Task } from '../../kernel/task.js';
import { entries, GenDir, GenFile, type GenFs } from './nodes.js';

const SHM_HEADER = '       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap\n';
const SEM_HEADER = '       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n';
const MSG_HEADER = '       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime\n';

const d = (n: number, w: number): string => String(n).padStart(w);
const o = (n: number): string => (n & 0o7777).toString(8).padStart(4);

/** The /proc/sysvipc directory; vpid maps a root pid into the procfs's pid namespace. */
export function sysvipcDir(fs: GenFs, kernel: () => Kernel | undefined, vpid: (pid: number) => number): (p: string) => GenDir {
  const regs = (ctx?: object): IpcRegistries | undefined =>
    (ctx as Partial<Task> | undefined)?.nsproxy?.ipc.sysv ?? kernel()?.rootNs.ipc.sysv;
  return (p: string): GenDir => new GenDir(fs, p, () => entries([
    ['shm', (q) => new GenFile(fs, q, (ctx) => SHM_HEADER + (regs(ctx)?.shm.table.values() ?? []).map((s) => [
      d(s.perm.key, 10), d(s.perm.id, 10), ` ${o(s.perm.mode)}`, d(s.size, 21), d(vpid(s.cpid), 5), d(vpid(s.lpid), 5),
      ` ${d(Math.max(0, s.nattch), 5)}`, d(s.perm.uid, 5), d(s.perm.gid, 5), d(s.perm.cuid, 5), d(s.perm.cgid, 5),
      d(s.atime, 10), d(s.dtime, 10), d(s.perm.ctime, 10), d(s.rssPages * 4096, 21), d(0, 21),
    ].join(' ') + '\n').join(''))],
    ['sem', (q) => new GenFile(fs, q, (ctx) => SEM_HEADER + (regs(ctx)?.sem.table.values() ?? []).map((s) => [
      d(s.perm.key, 10), d(s.perm.id, 10), ` ${o(s.perm.mode)}`, d(s.nsems, 10), d(s.perm.uid, 5), d(s.perm.gid, 5),
      d(s.perm.cuid, 5), d(s.perm.cgid, 5), d(s.otime, 10), d(s.perm.ctime, 10),
    ].join(' ') + '\n').join(''))],
    ['msg', (q) => new GenFile(fs, q, (ctx) => MSG_HEADER + (regs(ctx)?.msg.table.values() ?? []).map((m) => [
      d(m.perm.key, 10), d(m.perm.id, 10), ` ${o(m.perm.mode)}`, ` ${d(m.cbytes, 10)}`, d(m.msgs.length, 10), d(vpid(m.lspid), 5),
      d(vpid(m.lrpid), 5), d(m.perm.uid, 5), d(m.perm.gid, 5), d(m.perm.cuid, 5), d(m.perm.cgid, 5),
      d(m.stime, 10), d(m.rtime, 10), d(m.perm.ctime, 10),
    ].join(' ') + '\n').join(''))],
  ]));
}
