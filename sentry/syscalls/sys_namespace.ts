// Namespaces made inside the sandbox: clone's CLONE_NEW* flags, unshare(2), setns(2), and
// the UTS names (sethostname, setdomainname). PID, UTS, IPC and mount namespaces are real;
// user, network, cgroup and time namespaces are refused (EPERM, logged once).

import { E } from '../abi/errno.js';
import { err, isErr, type Result } from '../abi/result.js';
import { SYS } from '../abi/sysno.js';
import { allocNsIno, IpcNamespace, NsProxy } from '../kernel/namespaces.js';
import { PidNamespace } from '../kernel/pid_namespace.js';
import type { Task } from '../kernel/task.js';
import { UTS_NAME_LEN, UtsNamespace } from '../kernel/uts_namespace.js';
import { nsOfFile } from '../fs/proc/ns_files.js';
import { MountNamespace, type Mount } from '../vfs/mount.js';
import { CAP, capable } from '../vfs/permissions.js';
import type { SyscallHandler, SyscallTable } from './types.js';

const CLONE_VM = 0x100;
const CLONE_FS = 0x200;
const CLONE_FILES = 0x400;
const CLONE_SIGHAND = 0x800;
const CLONE_THREAD = 0x10000;
const CLONE_SYSVSEM = 0x40000;
export const CLONE_NEWTIME = 0x80;
export const CLONE_NEWNS = 0x20000;
export const CLONE_NEWCGROUP = 0x2000000;
export const CLONE_NEWUTS = 0x4000000;
export const CLONE_NEWIPC = 0x8000000;
export const CLONE_NEWUSER = 0x10000000;
export const CLONE_NEWPID = 0x20000000;
export const CLONE_NEWNET = 0x40000000;
export const CLONE_NS_MASK = CLONE_NEWTIME | CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET;
const REFUSED = CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWCGROUP | CLONE_NEWTIME;
/** Linux's MAX_PID_NS_LEVEL. */
const MAX_PID_NS_LEVEL = 32;

const refusedLogged = new Set<number>();

/** The namespaces a new process (clone) or the caller (unshare) gets for these flags. */
export function cloneNamespaces(t: Task, flags: number): Result<{ ns: NsProxy; mounts?: Map<Mount, Mount>; mntNs?: MountNamespace }> {
  const want = flags & CLONE_NS_MASK;
  if (want === 0) return { ns: t.nsproxy };
  const refused = want & REFUSED;
  if (refused !== 0) {
    if (!refusedLogged.has(refused)) {
      refusedLogged.add(refused);
      const names = [[CLONE_NEWUSER, 'user'], [CLONE_NEWNET, 'network'], [CLONE_NEWCGROUP, 'cgroup'], [CLONE_NEWTIME, 'time']]
        .filter(([bit]) => (refused & (bit as number)) !== 0).map(([, n]) => n).join(', ');
      t.kernel.log(`${names} namespaces cannot be created inside the sandbox: EPERM to ${t.comm}[${t.tid}]`);
    }
    return err(E.EPERM);
  }
  if (!capable(t.creds, CAP.SYS_ADMIN)) return err(E.EPERM);
  const p = t.nsproxy;
  let pidForChildren: PidNamespace | undefined;
  if ((want & CLONE_NEWPID) !== 0) {
    // Only from the caller's own namespace (not one an earlier unshare prepared).
    if (p.pidForChildren !== t.tg.pidNs) return err(E.EINVAL);
    if (p.pidForChildren.level + 1 >= MAX_PID_NS_LEVEL) return err(E.ENOSPC);
    pidForChildren = new PidNamespace(p.pidForChildren, allocNsIno());
  }
  const uts = (want & CLONE_NEWUTS) !== 0 ? p.uts.copy(allocNsIno()) : undefined;
  const ipc = (want & CLONE_NEWIPC) !== 0 ? new IpcNamespace(allocNsIno()) : undefined;
  let mounts: Map<Mount, Mount> | undefined;
  let mntNs: MountNamespace | undefined;
  if ((want & CLONE_NEWNS) !== 0) {
    const c = t.fs.root.mount.ns.copy(allocNsIno());
    mounts = c.map;
    mntNs = c.ns;
  }
  return { ns: p.with({ pidForChildren, uts, ipc }), mounts, mntNs };
}

/** unshare(flags): the caller leaves its namespaces (and shared fd table / fs context). */
const sysUnshare: SyscallHandler = (t, a) => {
  let flags = a.uint(0);
  const allowed = CLONE_THREAD | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_VM | CLONE_SYSVSEM | CLONE_NS_MASK;
  if ((flags & ~allowed) !== 0) return -E.EINVAL;
  // A new mount namespace needs a private fs context (root and cwd move to the copy).
  if ((flags & CLONE_NEWNS) !== 0) flags |= CLONE_FS;
  const others = [...t.kernel.tasks.values()].filter((o) => o !== t && o.state !== 'dead');
  // Threads, signal handlers and memory can be "unshared" only when nobody shares them.
  if ((flags & (CLONE_THREAD | CLONE_SIGHAND)) !== 0 && t.tg.tasks.size > 1) return -E.EINVAL;
  if ((flags & CLONE_VM) !== 0 && others.some((o) => o.mm === t.mm)) return -E.EINVAL;
  const made = cloneNamespaces(t, flags);
  if (isErr(made)) return -made.errno;
  if ((flags & CLONE_FS) !== 0 && others.some((o) => o.fs === t.fs)) t.fs = t.fs.clone();
  if ((flags & CLONE_FILES) !== 0 && others.some((o) => o.fds === t.fds)) t.fds = t.fds.fork();
  t.nsproxy = made.ns;
  if (made.mounts !== undefined) {
    t.fs.root = MountNamespace.remap(t.fs.root, made.mounts);
    t.fs.cwd = MountNamespace.remap(t.fs.cwd, made.mounts);
  }
  // CLONE_SYSVSEM: no SysV semaphores exist, so there are no undo lists to detach.
  return 0;
};

/** setns(fd, nstype): joins the namespace an nsfs file (/proc/[pid]/ns/*) stands for. */
const sysSetns: SyscallHandler = (t, a) => {
  const f = t.fds.get(a.int(0));
  if (f === undefined) return -E.EBADF;
  const nstype = a.int(1);
  const ns = nsOfFile(f);
  if (ns === undefined) return -E.EINVAL;
  const kind = ns instanceof PidNamespace ? CLONE_NEWPID : ns instanceof UtsNamespace ? CLONE_NEWUTS
    : ns instanceof IpcNamespace ? CLONE_NEWIPC : ns instanceof MountNamespace ? CLONE_NEWNS
      : { user: CLONE_NEWUSER, net: CLONE_NEWNET, cgroup: CLONE_NEWCGROUP, time: CLONE_NEWTIME }[ns.kind];
  if (nstype !== 0 && nstype !== kind) return -E.EINVAL;
  if (!capable(t.creds, CAP.SYS_ADMIN)) return -E.EPERM;
  if (ns instanceof PidNamespace) {
    // Only the caller's own pid namespace or one below it (pid_for_children; the caller stays).
    if (!t.tg.pidNs.contains(ns)) return -E.EINVAL;
    t.nsproxy = t.nsproxy.with({ pidForChildren: ns });
    return 0;
  }
  if (ns instanceof UtsNamespace) {
    t.nsproxy = t.nsproxy.with({ uts: ns });
    return 0;
  }
  if (ns instanceof IpcNamespace) {
    t.nsproxy = t.nsproxy.with({ ipc: ns });
    return 0;
  }
  if (ns instanceof MountNamespace) {
    // The caller's root and cwd become the namespace's root (a private fs context first).
    if (t.tg.tasks.size > 1 && [...t.tg.tasks].some((o) => o !== t && o.fs === t.fs)) return -E.EINVAL;
    if ([...t.kernel.tasks.values()].some((o) => o !== t && o.fs === t.fs)) t.fs = t.fs.clone();
    const root = { mount: ns.root, dentry: ns.root.root };
    t.fs.root = root;
    t.fs.cwd = root;
    return 0;
  }
  // User, network, cgroup and time namespaces: there is only the one the caller is in.
  return ns.kind === 'user' ? -E.EINVAL : 0;
};

/** sethostname/setdomainname: CAP_SYS_ADMIN, then at most 64 bytes, into the UTS namespace. */
function setUtsName(field: 'nodename' | 'domainname'): SyscallHandler {
  return (t, a) => {
    if (!capable(t.creds, CAP.SYS_ADMIN)) return -E.EPERM;
    const len = a.int(1);
    if (len < 0 || len > UTS_NAME_LEN) return -E.EINVAL;
    const b = t.mem.copyIn(a.ptr(0), len);
    if (isErr(b)) return -b.errno;
    const nul = b.indexOf(0);
    t.nsproxy.uts.name[field] = Buffer.from(nul >= 0 ? b.subarray(0, nul) : b).toString('utf8');
    return 0;
  };
}

export const namespaceSyscalls: SyscallTable = {
  [SYS.unshare]: sysUnshare,
  [SYS.setns]: sysSetns,
  [SYS.sethostname]: setUtsName('nodename'),
  [SYS.setdomainname]: setUtsName('domainname'),
};
