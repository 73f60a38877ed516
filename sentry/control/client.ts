// The CLI's side of the control protocol.

import * as net from 'node:net';
import { ociNative } from './native_oci.js';
import { LineReader, type ExecSpec, type Reply, type Request } from './protocol.js';

export class ControlError extends Error {}

/** The wait status of a process killed by SIGKILL. */
const SIGKILL_STATUS = 9;

function asReply(v: unknown): Reply {
  if (typeof v === 'object' && v !== null && 'ok' in v) return v as Reply;
  return { ok: false, error: 'malformed reply from the sandbox' };
}

/** Sends one request and resolves with its reply; rejects if the sandbox cannot be reached. */
export function request(path: string, req: Request, timeoutMs = 0): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection(path);
    s.setEncoding('utf8');
    let settled = false;
    const finish = (f: () => void): void => {
      if (settled) return;
      settled = true;
      s.destroy();
      f();
    };
    if (timeoutMs > 0) s.setTimeout(timeoutMs, () => finish(() => reject(new ControlError('the sandbox did not answer in time'))));
    const reader = new LineReader((v) => finish(() => resolve(asReply(v))), (m) => finish(() => reject(new ControlError(m))));
    s.on('connect', () => s.write(JSON.stringify(req) + '\n'));
    s.on('data', (c: string) => reader.push(c));
    s.on('error', (e) => finish(() => reject(new ControlError(`cannot reach the sandbox: ${e.message}`))));
    s.on('close', () => finish(() => reject(new ControlError('the sandbox closed the connection'))));
  });
}

/**
 * Runs a process in the sandbox with `fds` as its stdio; onPid fires when it runs.
 * Resolves with its wait status.
 */
export function execRequest(path: string, spec: ExecSpec, fds: number[], onPid: (pid: number) => void): Promise<number> {
  return processRequest(path, { op: 'exec', spec: { ...spec, fds: fds.length } }, fds, onPid);
}

/**
 * A request that runs a process (exec, or a pod's container): passes fds, reports the
 * container ready (onReady) and the process running (onPid); resolves with its wait status.
 */
export function processRequest(path: string, req: Request, fds: number[], onPid: (pid: number) => void, onReady?: () => void): Promise<number> {
  const n = ociNative();
  const fd = n.ociUnixConnect(path);
  if (fd < 0) return Promise.reject(new ControlError(`cannot reach the sandbox: errno ${-fd}`));
  return new Promise((resolve, reject) => {
    const s = new net.Socket({ fd, readable: true, writable: true });
    s.setEncoding('utf8');
    let settled = false;
    let started = false;
    const finish = (f: () => void): void => {
      if (settled) return;
      settled = true;
      s.destroy();
      f();
    };
    const reader = new LineReader((v) => {
      const r = asReply(v);
      if (!r.ok) return finish(() => reject(new ControlError(r.error)));
      if (r.sendFds === true) {
        const arr = Int32Array.from(fds);
        const sent = n.ociSendFds(fd, arr, arr.length);
        if (sent < 0) finish(() => reject(new ControlError(`cannot pass stdio to the sandbox: errno ${-sent}`)));
        return;
      }
      if (r.ready === true) {
        onReady?.();
        return;
      }
      if (r.status !== undefined) {
        const st = r.status;
        return finish(() => resolve(st));
      }
      if (r.pid !== undefined) {
        started = true;
        onPid(r.pid);
      }
    }, (m) => finish(() => reject(new ControlError(m))));
    s.on('data', (c: string) => reader.push(c));
    s.on('error', (e) => finish(() => reject(new ControlError(`lost the sandbox: ${e.message}`))));
    // A sandbox that ends takes its processes with it: a started one died of SIGKILL.
    s.on('close', () => finish(() => (started ? resolve(SIGKILL_STATUS) : reject(new ControlError('the sandbox ended before the process started')))));
    s.write(JSON.stringify(req) + '\n');
  });
}
