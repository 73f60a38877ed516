// A terminal for an exec'd process or a pod's container: the host pty slave the CLI hands
// over is relayed to a pty of the sandbox's own devpts, so the line discipline, job
// control (^C reaches the process's foreground group) and ttyname are the sandbox's.

import { closeSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import * as tty from 'node:tty';
import { isErr } from '../abi/result.js';
import { DevptsFs } from '../fs/devpts/devpts.js';
import { openHostTerminal, type HostTerminal } from '../fs/devpts/host_terminal.js';
import { Credentials } from '../kernel/credentials.js';
import type { Kernel } from '../kernel/kernel.js';
import { FsContext } from '../vfs/fs_context.js';

export interface SandboxTerminal {
  readonly terminal: HostTerminal;
  /** Stops relaying and closes the host fd. */
  close(): Promise<void>;
}

/**
 * Relays hostFd (a pty slave in raw mode: the sandbox's pty does the line discipline) to
 * a new pty of the sandbox's /dev/pts. Attach it to the process's session once it exists.
 */
export async function openSandboxTerminal(k: Kernel, hostFd: number): Promise<SandboxTerminal | string> {
  const root = k.vfs.rootLocation();
  const ctx = { fs: new FsContext(root, root, 0o022), creds: new Credentials() };
  const pts = await k.vfs.walk(ctx, root, '/dev/pts', true);
  if (isErr(pts) || !(pts.mount.fs instanceof DevptsFs)) return 'the sandbox has no /dev/pts for a terminal';
  const devpts = pts.mount.fs;
  let reader: tty.ReadStream;
  let writer: tty.WriteStream;
  try {
    reader = new tty.ReadStream(hostFd);
    writer = new tty.WriteStream(hostFd);
  } catch (e) {
    return `the terminal fd is not a terminal: ${e instanceof Error ? e.message : String(e)}`;
  }
  // A plain stream for the relay: libuv's raw mode would bring back output processing.
  const input = new PassThrough();
  reader.pipe(input);
  const terminal = await openHostTerminal(devpts, async (n) => {
    const l = await k.vfs.walk(ctx, root, `/dev/pts/${n}`, true);
    return isErr(l) ? null : l;
  }, { input, output: writer });
  const release = (): void => {
    // libuv reopens a tty under a new fd for each stream (and dup2s it over ours): ours is
    // then no stream's, and is closed here; a stream that kept it closes it itself.
    const fdOf = (st: object): number | undefined => (st as { _handle?: { fd?: number } })._handle?.fd;
    const owned = [fdOf(reader), fdOf(writer)].includes(hostFd);
    reader.destroy();
    writer.destroy();
    if (!owned) {
      try {
        closeSync(hostFd);
      } catch {
        // Already closed.
      }
    }
  };
  if (isErr(terminal)) {
    release();
    return `cannot create a pty for the terminal: errno ${terminal.errno}`;
  }
  return {
    terminal,
    async close(): Promise<void> {
      await terminal.close();
      release();
    },
  };
}
