// Starts the Gofer for one export: two socketpairs (9P stream, fd donations), the Gofer
// spawned in its own mount namespace with their far ends, then a 9P session attached to
// the export's root. The Sentry keeps only sockets: it never opens the export's paths.

import * as net from 'node:net';
import { join, resolve } from 'node:path';
import { E } from '../../abi/errno.js';
import { err, isErr, type Result } from '../../abi/result.js';
import { goferNative, SOCK_SEQPACKET, SOCK_STREAM } from '../../../gofer/confine/native_gofer.js';
import { P9Client } from '../../../gofer/p9/client.js';
import { packageRoot } from '../../platform/ptrace/native.js';
import { Donations } from './donations.js';

export interface GoferOptions {
  /** Host directory served as the root (absolute). */
  root: string;
  readOnly: boolean;
  /** Test only: the Gofer makes a forbidden syscall when sent SIGUSR2. */
  selftestForbidden?: boolean;
}

export interface GoferSession {
  pid: number;
  client: P9Client;
  /** Root fid of the attach. */
  rootFid: number;
  donations: Donations;
}

/** The bundled CLI that holds the Gofer's entry point (`tsvisor gofer`). */
export function goferScript(): string {
  return join(packageRoot(), 'dist', 'tsvisor.mjs');
}

export interface SpawnedGofer {
  pid: number;
  /** Our end of the 9P stream. */
  sock: net.Socket;
  donations: Donations;
}

/** A started Gofer's pid and our ends of its 9P stream and fd-donation sockets. */
export interface GoferFds {
  pid: number;
  io: number;
  donate: number;
}

/** The Gofer's command line (execPath first): its 9P stream is fd 3, its donation socket fd 4. */
export function goferArgv(opts: GoferOptions): string[] {
  // Build time only: scripts/build.mjs trains the Gofer's code cache (dist/tsvisor.mjs reads the flag).
  const train = process.env.TSVISOR_CODE_CACHE_TRAIN;
  const args = [process.execPath, goferScript(), ...(train !== undefined ? [`--code-cache-train=${train}`] : []), 'gofer', '--root', resolve(opts.root), '--io-fd', '3', '--donate-fd', '4'];
  if (opts.readOnly) args.push('--ro');
  if (opts.selftestForbidden === true) args.push('--selftest-forbidden-syscall');
  return args;
}

/** Spawns a Gofer for opts.root; -errno on failure, with nothing left open. */
export function spawnGoferFds(opts: GoferOptions): GoferFds | number {
  const n = goferNative();
  const io = n.socketPair(SOCK_STREAM);
  if (typeof io === 'number') return io;
  const don = n.socketPair(SOCK_SEQPACKET);
  if (typeof don === 'number') {
    n.closeFd(io[0]);
    n.closeFd(io[1]);
    return don;
  }
  const pid = n.goferSpawn(process.execPath, goferArgv(opts), io[1], don[1]);
  n.closeFd(io[1]);
  n.closeFd(don[1]);
  if (pid < 0) {
    n.closeFd(io[0]);
    n.closeFd(don[0]);
    return pid;
  }
  return { pid, io: io[0], donate: don[0] };
}

/** Test only: a Gofer that breaks its seccomp filter on SIGUSR2 (test/integration/gofer_sandbox). */
export function goferSelftestRequested(): boolean {
  return process.env.TSVISOR_GOFER_SELFTEST === 'forbidden-syscall';
}

/** Gofers started ahead of boot, by options: `do` starts the root's with the Sentry child (sentry_process.ts). */
const prespawned = new Map<string, GoferFds | number>();
const prespawnKey = (o: GoferOptions): string => JSON.stringify([resolve(o.root), o.readOnly, o.selftestForbidden === true]);

/**
 * Makes a Gofer ready for a later spawnGofer with the same options: early, one already
 * started for them (by `do`'s native Sentry spawn, with goferArgv); else one started now.
 */
export function prespawnGofer(opts: GoferOptions, early?: GoferFds): void {
  const key = prespawnKey(opts);
  if (!prespawned.has(key)) prespawned.set(key, early ?? spawnGoferFds({ ...opts, root: resolve(opts.root) }));
}

/** Spawns a Gofer for opts.root (or takes the one prespawnGofer started), not yet spoken to. */
export function spawnGofer(opts: GoferOptions): Result<SpawnedGofer> {
  const key = prespawnKey(opts);
  const early = prespawned.get(key);
  prespawned.delete(key);
  const g = early ?? spawnGoferFds(opts);
  if (typeof g === 'number') return err(-g);
  return { pid: g.pid, sock: new net.Socket({ fd: g.io, readable: true, writable: true }), donations: new Donations(g.donate) };
}

export async function startGofer(opts: GoferOptions): Promise<Result<GoferSession>> {
  const g = spawnGofer(opts);
  if (isErr(g)) return g;
  const { pid, sock, donations } = g;
  const s = await attachGofer(sock, donations);
  return isErr(s) ? s : { pid, donations, ...s };
}

/**
 * Speaks 9P on a Gofer's socket and attaches its export; the donation channel closes with
 * the connection (or at once if either step fails).
 */
export async function attachGofer(sock: net.Socket, donations: Donations): Promise<Result<{ client: P9Client; rootFid: number }>> {
  const client = await P9Client.connect(sock);
  if (isErr(client)) {
    donations.close();
    return client;
  }
  void client.whenClosed.then(() => donations.close());
  const a = await client.attach('root', '', 0);
  if (isErr(a)) {
    client.close();
    return a.errno === E.EIO ? err(E.EIO) : a;
  }
  return { client, rootFid: a.fid };
}
