// The sandbox's control server: a unix socket under --root/<id>/ that the CLI talks to
// (start, kill, ps, stats, wait, exec). One JSON request per line, one reply per request.

import { chmodSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { MAX_PASSED_FDS, ociNative } from './native_oci.js';
import { LineReader, parseRequest, type Reply, type Request } from './protocol.js';
import type { RootMount } from './oci_root.js';
import type { SandboxControl } from './sandbox_control.js';

const FD_POLL_MS = 5;
const FD_WAIT_MS = 5000;

interface PipeHandle {
  fd?: number;
  readStop?: () => number;
  readStart?: () => number;
}

/** Node's libuv handle under a net.Socket: its fd, and the only way to stop reads at once. */
function handleOf(s: net.Socket): PipeHandle | undefined {
  return (s as unknown as { _handle?: PipeHandle })._handle;
}

/**
 * Stops libuv reading now, so the fd message waits for our recvmsg (a libuv read would
 * drop its SCM_RIGHTS fds). The handle's `reading` flag stays set: otherwise Node's
 * read-ahead would restart reading on the next tick.
 */
function stopReading(s: net.Socket): boolean {
  const h = handleOf(s);
  return h?.readStop !== undefined && h.readStop() === 0;
}

function startReading(s: net.Socket): void {
  handleOf(s)?.readStart?.();
}

export class ControlServer {
  private readonly server: net.Server;

  constructor(private readonly path: string, private readonly control: SandboxControl, private readonly done: Promise<number>) {
    this.server = net.createServer((s) => this.serve(s));
  }

  listen(): Promise<void> {
    rmSync(this.path, { force: true });
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.path, () => {
        chmodSync(this.path, 0o600);
        resolve();
      });
    });
  }

  close(): void {
    this.server.close();
    try {
      rmSync(this.path, { force: true });
    } catch {
      // A confined Sentry cannot unlink host paths: its unconfined parent removes the socket.
    }
  }

  private serve(s: net.Socket): void {
    s.setEncoding('utf8');
    s.on('error', () => s.destroy());
    const send = (r: Reply): void => {
      if (!s.destroyed) s.write(JSON.stringify(r) + '\n');
    };
    let busy = false;
    const reader = new LineReader(
      (v) => {
        const req = parseRequest(v);
        if (typeof req === 'string') return send({ ok: false, error: req });
        if (busy) return send({ ok: false, error: 'one request at a time' });
        busy = true;
        this.handle(s, req, send).then(
          () => (busy = false),
          (e: unknown) => {
            busy = false;
            send({ ok: false, error: `internal error: ${e instanceof Error ? e.message : String(e)}` });
          },
        );
      },
      (msg) => send({ ok: false, error: msg }),
    );
    s.on('data', (chunk: string) => reader.push(chunk));
  }

  private async handle(s: net.Socket, req: Request, send: (r: Reply) => void): Promise<void> {
    const c = this.control;
    switch (req.op) {
      case 'start': {
        const e = c.start();
        return send(e === undefined ? { ok: true } : { ok: false, error: e });
      }
      case 'kill': {
        const e = req.pid !== undefined ? c.killPid(req.pid, req.signal) : c.kill(req.signal, req.all, req.container);
        return send(e === undefined ? { ok: true } : { ok: false, error: e });
      }
      case 'ps':
        return send({ ok: true, processes: c.ps(req.container) });
      case 'startContainer': {
        const e = c.startContainer(req.id);
        return send(e === undefined ? { ok: true } : { ok: false, error: e });
      }
      case 'container': {
        const fds = await this.takeFds(s, req.spec.fds, send);
        if (fds === undefined) return;
        const mounts: RootMount[] = req.mounts.map((m) => (m.kind === 'file' ? { ...m, data: Buffer.from(m.data, 'base64') } : m));
        const e = await c.addContainer(req.id, req.rootfs, req.readonly, mounts, req.spec, fds);
        if (e !== undefined) return send({ ok: false, error: e });
        // The creator's process stands for the container (its pid is the pid file's): if it
        // goes, so does the container.
        let exited = false;
        let running = false;
        s.once('close', () => {
          if (exited) return;
          if (running) c.kill(9, true, req.id);
          else c.abandonContainer(req.id);
        });
        send({ ok: true, ready: true });
        const r = await c.runContainer(req.id);
        if (typeof r === 'string') return send({ ok: false, error: r });
        running = true;
        send({ ok: true, pid: r.pid });
        const status = await r.exited;
        exited = true;
        return send({ ok: true, status });
      }
      case 'stats':
        return send({ ok: true, stats: c.stats() });
      case 'wait':
        return send({ ok: true, status: await this.done });
      case 'exec': {
        const fds = await this.takeFds(s, req.spec.fds, send);
        if (fds === undefined) return;
        const r = await c.exec(req.spec, fds);
        if (typeof r === 'string') return send({ ok: false, error: r });
        send({ ok: true, pid: r.pid });
        // The CLI process waiting on the exec stands for it (engines signal and wait on that
        // pid): if it dies, the process dies too.
        let exited = false;
        s.once('close', () => {
          if (!exited) c.killPid(r.pid, 9);
        });
        const status = await r.exited;
        exited = true;
        return send({ ok: true, status });
      }
    }
  }

  /** Asks for and receives the n stdio fds that follow a request; undefined after replying with an error. */
  private async takeFds(s: net.Socket, n: number, send: (r: Reply) => void): Promise<number[] | undefined> {
    if (n === 0) return [];
    if (!stopReading(s)) {
      send({ ok: false, error: 'cannot receive stdio fds' });
      return undefined;
    }
    send({ ok: true, sendFds: true });
    const got = await this.receiveFds(s);
    startReading(s);
    if (typeof got === 'string') {
      send({ ok: false, error: got });
      return undefined;
    }
    if (got.length !== n) {
      for (const fd of got) ociNative().closeFd(fd);
      send({ ok: false, error: `expected ${n} stdio fds, got ${got.length}` });
      return undefined;
    }
    return got;
  }

  /** Reads the one SCM_RIGHTS message that follows; the stream is paused so libuv does not consume it. */
  private async receiveFds(s: net.Socket): Promise<number[] | string> {
    const fd = handleOf(s)?.fd ?? -1;
    if (fd < 0) return 'exec: no socket fd';
    const out = new Int32Array(MAX_PASSED_FDS);
    const deadline = Date.now() + FD_WAIT_MS;
    for (;;) {
      const n = ociNative().ociRecvFds(fd, out);
      if (n >= 0) return [...out.subarray(0, n)];
      if (n !== -11 /* EAGAIN */ || Date.now() > deadline) return `exec: receiving stdio fds failed (errno ${-n})`;
      await new Promise((r) => setTimeout(r, FD_POLL_MS));
    }
  }
}
