// An in-process Gofer server on a socketpair, exporting a host directory without
// confinement (the confined process is tested in test/integration/gofer_*.test.ts).

import * as net from 'node:net';
import { isErr, type Result } from '../../sentry/abi/result.js';
import { goferNative, SOCK_SEQPACKET, SOCK_STREAM } from '../../gofer/confine/native_gofer.js';
import { P9Client } from '../../gofer/p9/client.js';
import { GoferConnection } from '../../gofer/server/server.js';
import { Donations } from '../../sentry/fs/gofer/donations.js';

export function ok<T>(r: Result<T>): T {
  if (isErr(r)) throw new Error(`failed with errno ${r.errno}`);
  return r;
}

export interface Served {
  client: P9Client;
  root: number;
  conn: GoferConnection;
  donations: Donations;
  /** The raw client-side socket, for hostile frames. */
  sock: net.Socket;
  close(): void;
}

export function socketPair(): [net.Socket, net.Socket, number, number] {
  const n = goferNative();
  const p = n.socketPair(SOCK_STREAM);
  if (typeof p === 'number') throw new Error(`socketpair: ${p}`);
  return [new net.Socket({ fd: p[0], readable: true, writable: true }), new net.Socket({ fd: p[1], readable: true, writable: true }), p[0], p[1]];
}

/** A server for dir and the raw socket to it (no version yet). */
export function serveRaw(dir: string, readOnly = false, maxPathFds?: number): { conn: GoferConnection; sock: net.Socket; rootFd: number; donate: [number, number] } {
  const n = goferNative();
  const rootFd = n.openRoot(dir);
  if (rootFd < 0) throw new Error(`openRoot: ${rootFd}`);
  const don = n.socketPair(SOCK_SEQPACKET);
  if (typeof don === 'number') throw new Error(`socketpair: ${don}`);
  const [a, b] = socketPair();
  const conn = new GoferConnection(b, { rootFd, readOnly, donateFd: don[1], maxPathFds });
  void conn.done.then(() => {
    n.closeFd(rootFd);
    n.closeFd(don[1]);
  });
  return { conn, sock: a, rootFd, donate: don };
}

export async function serve(dir: string, readOnly = false, maxPathFds?: number): Promise<Served> {
  const { conn, sock, donate } = serveRaw(dir, readOnly, maxPathFds);
  const client = ok(await P9Client.connect(sock, { msize: 65536 }));
  const root = ok(await client.attach('root', '', 0)).fid;
  const donations = new Donations(donate[0]);
  return {
    client, root, conn, donations, sock,
    close() {
      client.close();
      donations.close();
    },
  };
}
