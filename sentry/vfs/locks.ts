// Advisory file locks, per file (inode key), for the whole sandbox.
// - POSIX record locks (fcntl F_SETLK/F_SETLKW/F_GETLK): byte ranges owned by the fd table
//   (Linux's files_struct), released when that table closes any fd of the file.
// - OFD locks (F_OFD_*): the same ranges, owned by the open file description.
// - flock(2): whole-file shared/exclusive locks owned by the open file description.
// A description's OFD and flock locks go when its last reference does. flock and record
// locks do not interact, as on Linux.

import { E } from '../abi/errno.js';
import { err, type Result } from '../abi/result.js';
import { WaitQueue } from './wait_queue.js';

export const F_RDLCK = 0;
export const F_WRLCK = 1;
export const F_UNLCK = 2;

export interface RangeLock {
  type: number;
  start: number;
  /** Exclusive end; Infinity for "to EOF and beyond". */
  end: number;
  owner: object;
  /** Owner's pid for F_GETLK (-1 for OFD locks). */
  pid: number;
}

interface FileLocks {
  ranges: RangeLock[];
  /** flock holders: description -> exclusive? */
  flocks: Map<object, boolean>;
  queue: WaitQueue;
}

const table = new Map<string, FileLocks>();
/** Which files each owner holds locks on, so closing can find them. */
const byOwner = new WeakMap<object, Set<string>>();

function locksOf(key: string): FileLocks {
  let l = table.get(key);
  if (l === undefined) {
    l = { ranges: [], flocks: new Map(), queue: new WaitQueue() };
    table.set(key, l);
  }
  return l;
}

function note(owner: object, key: string): void {
  let s = byOwner.get(owner);
  if (s === undefined) {
    s = new Set();
    byOwner.set(owner, s);
  }
  s.add(key);
}

function tidy(key: string, l: FileLocks): void {
  if (l.ranges.length === 0 && l.flocks.size === 0 && l.queue.waiterCount === 0) table.delete(key);
}

function conflicts(a: RangeLock, type: number, start: number, end: number, owner: object): boolean {
  return a.owner !== owner && a.start < end && start < a.end && (a.type === F_WRLCK || type === F_WRLCK);
}

/** F_GETLK: the first lock that would block (type, range, owner), or null. */
export function testLock(key: string, type: number, start: number, end: number, owner: object): RangeLock | null {
  const l = table.get(key);
  if (l === undefined) return null;
  return l.ranges.find((r) => conflicts(r, type, start, end, owner)) ?? null;
}

/** Sets (or with F_UNLCK clears) owner's lock on [start, end); EAGAIN on conflict. */
export function setLock(key: string, type: number, start: number, end: number, owner: object, pid: number): Result<void> {
  const l = locksOf(key);
  if (type !== F_UNLCK && l.ranges.some((r) => conflicts(r, type, start, end, owner))) return err(E.EAGAIN);
  const kept: RangeLock[] = [];
  for (const r of l.ranges) {
    if (r.owner !== owner || r.end <= start || r.start >= end) {
      kept.push(r);
      continue;
    }
    // Keep the parts of the owner's old lock outside the new range.
    if (r.start < start) kept.push({ ...r, end: start });
    if (r.end > end) kept.push({ ...r, start: end });
  }
  if (type !== F_UNLCK) {
    let n: RangeLock = { type, start, end, owner, pid };
    // Merge with the owner's touching locks of the same type, as Linux does.
    const rest: RangeLock[] = [];
    for (const r of kept) {
      if (r.owner === owner && r.type === type && r.start <= n.end && n.start <= r.end) {
        n = { ...n, start: Math.min(n.start, r.start), end: Math.max(n.end, r.end) };
      } else rest.push(r);
    }
    rest.push(n);
    l.ranges = rest.sort((a, b) => a.start - b.start);
    note(owner, key);
  } else {
    l.ranges = kept;
  }
  l.queue.notify(1);
  tidy(key, l);
  return undefined;
}

/** F_SETLKW: waits until the lock can be set; 'interrupted' when signal aborts. */
export async function setLockWait(key: string, type: number, start: number, end: number, owner: object, pid: number,
  signal?: AbortSignal): Promise<Result<void>> {
  for (;;) {
    const r = setLock(key, type, start, end, owner, pid);
    if (r === undefined || r.errno !== E.EAGAIN) return r;
    const o = await locksOf(key).queue.wait(1, signal);
    if (o === 'interrupted') return err(E.EINTR);
  }
}

/** flock(2) without LOCK_NB handled by the caller: EWOULDBLOCK when held by another description. */
export function tryFlock(key: string, owner: object, exclusive: boolean): Result<void> {
  const l = locksOf(key);
  for (const [o, ex] of l.flocks) {
    if (o !== owner && (ex || exclusive)) return err(E.EAGAIN);
  }
  l.flocks.set(owner, exclusive);
  note(owner, key);
  l.queue.notify(1);
  return undefined;
}

export async function flockWait(key: string, owner: object, exclusive: boolean, signal?: AbortSignal): Promise<Result<void>> {
  // Converting a lock drops the old one first (Linux does too), so two converters cannot deadlock.
  unflock(key, owner);
  for (;;) {
    const r = tryFlock(key, owner, exclusive);
    if (r === undefined) return r;
    const o = await locksOf(key).queue.wait(1, signal);
    if (o === 'interrupted') return err(E.EINTR);
  }
}

export function unflock(key: string, owner: object): void {
  const l = table.get(key);
  if (l === undefined) return;
  if (l.flocks.delete(owner)) l.queue.notify(1);
  tidy(key, l);
}

/** Drops every lock owner holds on key (a POSIX owner closing an fd of the file). */
export function releaseOwnerOn(owner: object, key: string): void {
  const l = table.get(key);
  if (l === undefined) return;
  const before = l.ranges.length;
  l.ranges = l.ranges.filter((r) => r.owner !== owner);
  const had = l.flocks.delete(owner);
  if (had || l.ranges.length !== before) l.queue.notify(1);
  tidy(key, l);
}

/** Drops every lock owner holds anywhere (a description's last reference going). */
export function releaseOwner(owner: object): void {
  const keys = byOwner.get(owner);
  if (keys === undefined) return;
  for (const k of keys) releaseOwnerOn(owner, k);
  byOwner.delete(owner);
}

/** Whether owner holds any lock on key (fast path for close). */
export function ownsAny(owner: object, key: string): boolean {
  return byOwner.get(owner)?.has(key) ?? false;
}
