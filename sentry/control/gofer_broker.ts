// A pod's sandbox starts a Gofer for each container that joins it, long after its Sentry
// was confined (no exec, no capabilities, no host paths). The unconfined parent starts
// those Gofers on request and passes the Sentry its ends of their sockets (SCM_RIGHTS).

import { writeSync } from 'node:fs';
import * as net from 'node:net';
import { resolve } from 'node:path';
import { E } from '../abi/errno.js';
import { err, isErr, type Result } from '../abi/result.js';
import { Donations } from '../fs/gofer/donations.js';
import { GoferFs } from '../fs/gofer/gofer_fs.js';
import { attachGofer, spawnGoferFds } from '../fs/gofer/gofer_process.js';
import { ociNative } from './native_oci.js';

/** Mounts a host directory through a Gofer (goferFilesystem's shape). */
export type GoferMounter = (hostDir: string, opts: { readOnly: boolean; log?: (line: string) => void }) => Promise<Result<GoferFs>>;

/** Sent (one JSON line) by the Sentry; answered by one byte carrying [9P fd, donation fd], or none on failure. */
interface GoferRequest {
  root: string;
  readOnly: boolean;
}

function parseRequest(line: string): GoferRequest | undefined {
  try {
    const v = JSON.parse(line) as Partial<GoferRequest>;
    return typeof v.root === 'string' && v.root.startsWith('/') && typeof v.readOnly === 'boolean' ? { root: v.root, readOnly: v.readOnly } : undefined;
  } catch {
    return undefined;
  }
}

function socketFd(s: net.Socket): number | undefined {
  const fd = (s as unknown as { _handle?: { fd?: number } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/** Parent side: serves Gofer requests on the unix socket at path. */
export function serveGofers(path: string, log: (line: string) => void): Promise<net.Server> {
  const server = net.createServer((s) => {
    s.setEncoding('utf8');
    s.on('error', () => s.destroy());
    let buf = '';
    s.on('data', (chunk: string) => {
      buf += chunk;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        answer(s, line, log);
      }
    });
  });
  return new Promise((res, rej) => {
    server.once('error', rej);
    server.listen(path, () => res(server));
  });
}

function answer(s: net.Socket, line: string, log: (line: string) => void): void {
  const n = ociNative();
  const req = parseRequest(line);
  const g = req === undefined ? -E.EINVAL : spawnGoferFds(req);
  const fds = typeof g === 'number' ? g : [g.io, g.donate];
  const sock = socketFd(s);
  if (typeof fds === 'number' || sock === undefined) {
    log(`cannot start a Gofer for ${line}: errno ${typeof fds === 'number' ? -fds : E.EBADF}`);
    if (typeof fds !== 'number') for (const fd of fds) n.closeFd(fd);
    // One byte without fds: the Sentry's request failed.
    s.write('E');
    return;
  }
  const sent = n.ociSendFds(sock, Int32Array.from(fds), 2);
  for (const fd of fds) n.closeFd(fd);
  if (sent < 0) log(`cannot pass a Gofer's sockets to the Sentry: errno ${-sent}`);
}

/**
 * Sentry side, over a connection made before confinement: the request blocks the event
 * loop only while the parent spawns the Gofer.
 */
export function brokeredGofers(connFd: number): GoferMounter {
  return async (hostDir, opts) => {
    const n = ociNative();
    const root = resolve(hostDir);
    try {
      writeSync(connFd, JSON.stringify({ root, readOnly: opts.readOnly }) + '\n');
    } catch {
      return err(E.EIO);
    }
    const out = new Int32Array(16);
    const got = n.ociRecvFds(connFd, out);
    if (got !== 2) {
      for (let i = 0; i < got; i++) n.closeFd(out[i]);
      return err(got < 0 ? -got : E.EIO);
    }
    const donations = new Donations(out[1]);
    const s = await attachGofer(new net.Socket({ fd: out[0], readable: true, writable: true }), donations);
    if (isErr(s)) return s;
    const { client, rootFid } = s;
    // Our Gofer answers a connection's requests in order: lookups may be pipelined.
    const f = await GoferFs.create(client, rootFid, { readOnly: opts.readOnly, donations, inOrder: true, readdirFills: true });
    if (isErr(f)) client.close();
    else void client.whenClosed.then(() => opts.log?.(`gofer for ${root} is gone: its files now fail with EIO`));
    return f;
  };
}
