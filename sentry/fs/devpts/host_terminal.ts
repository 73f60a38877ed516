// `tsvisor do -t`: init gets a pty of its own (its stdio is the slave, its session's
// controlling terminal), and the Sentry relays the user's terminal to the master: host
// stdin (in raw mode when it is a terminal, so ^C and friends reach the line discipline
// as bytes) is typed into the pty, the pty's output goes to host stdout, and a resize of
// the host terminal becomes TIOCSWINSZ (SIGWINCH for the foreground group).

import { isErr, type Result } from '../../abi/result.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { ThreadGroup } from '../../kernel/thread_group.js';
import { O } from '../../vfs/constants.js';
import type { FileDescription } from '../../vfs/file.js';
import type { Location } from '../../vfs/mount.js';
import { attachSession } from '../tty/job_control.js';
import { LFLAG, VC } from '../tty/termios.js';
import { setWinsize } from '../tty/tty_ioctl.js';
import { type DevptsFs, PtyMasterFile, PtySlaveFile } from './devpts.js';

export interface HostTerminal {
  /** init's fds 0, 1, 2 (each holding one reference for the caller's fd table). */
  readonly stdio: FileDescription[];
  /** Makes the pty the controlling terminal of init's session (call once init exists). */
  attachInit(kernel: Kernel): void;
  /** The same for another session leader (an OCI exec'd process, a pod's container). */
  attach(kernel: Kernel, leader: ThreadGroup): void;
  /** Relays the remaining output, restores the host terminal and stops relaying. */
  close(): Promise<void>;
}

/** Host streams the relay uses (process.stdin/stdout by default; tests may pass others). */
export interface HostStreams {
  input: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  output: NodeJS.WritableStream & { isTTY?: boolean; columns?: number; rows?: number };
}

/**
 * Creates a pty on devpts for init and starts relaying the host terminal. slaveLoc(n) gives
 * the location of /dev/pts/n inside the sandbox (for ttyname), or null.
 */
export async function openHostTerminal(
  devpts: DevptsFs, slaveLoc: (index: number) => Promise<Location | null>, streams: HostStreams = { input: process.stdin, output: process.stdout },
): Promise<Result<HostTerminal>> {
  const pty = devpts.allocate();
  if (isErr(pty)) return pty;
  pty.locked = false;
  const master = new PtyMasterFile(O.RDWR, null, pty, devpts);
  const loc = await slaveLoc(pty.index);
  const stdio = [0, 1, 2].map(() => new PtySlaveFile(O.RDWR, loc, pty));
  const { input, output } = streams;
  const tty = pty.tty;

  const resize = (): void => {
    if (output.isTTY === true && output.columns !== undefined && output.rows !== undefined) {
      setWinsize(tty, { rows: output.rows, cols: output.columns, xpixel: 0, ypixel: 0 });
    }
  };
  resize();
  output.on('resize', resize);

  const raw = input.isTTY === true && input.setRawMode !== undefined;
  let relaying = false;
  // Typed bytes go in order; a full input queue makes later chunks wait their turn.
  let typing: Promise<unknown> = Promise.resolve();
  const onData = (d: Buffer | string): void => {
    const bytes = typeof d === 'string' ? new TextEncoder().encode(d) : new Uint8Array(d);
    typing = typing.then(() => master.write(bytes, {}));
  };
  // Piped (non-terminal) input ending: type the EOF character, as util-linux script does,
  // so a shell reading the terminal sees end of file instead of waiting forever.
  const onEnd = (): void => {
    typing = typing.then(() => {
      const eof = tty.termios.cc[VC.VEOF];
      if (tty.termios.lOn(LFLAG.ICANON) && eof !== 0) return master.write(Uint8Array.of(eof), {});
      return undefined;
    });
  };

  let closing = false;
  const buf = new Uint8Array(65536);
  const pump = (async (): Promise<void> => {
    for (;;) {
      const r = await master.read(buf, {});
      if (isErr(r) || r === 0) return;
      // A slow consumer holds the program's writes back (the pty's output queue fills up).
      if (!output.write(Buffer.from(buf.subarray(0, r)))) await new Promise((resolve) => output.once('drain', resolve));
      if (closing && tty.pendingOutput === 0) return;
    }
  })();

  const attach = (kernel: Kernel, leader: ThreadGroup): void => {
    attachSession(kernel, leader.sid, leader.pgid, tty);
    if (relaying) return;
    // The host terminal goes raw only now, so a failed boot never leaves it raw.
    relaying = true;
    if (raw) input.setRawMode?.(true);
    input.on('data', onData);
    input.once('end', onEnd);
    input.resume();
  };

  return {
    stdio,
    attachInit(kernel: Kernel): void {
      if (kernel.init !== undefined) attach(kernel, kernel.init);
    },
    attach,
    async close(): Promise<void> {
      closing = true;
      output.off('resize', resize);
      if (relaying) {
        input.off('data', onData);
        input.off('end', onEnd);
        if (raw) input.setRawMode?.(false);
        input.pause();
      }
      // Whatever the program wrote before exiting still reaches the user.
      const rest = new Uint8Array(65536);
      for (let n = tty.takeOutput(rest); n > 0; n = tty.takeOutput(rest)) output.write(Buffer.from(rest.subarray(0, n)));
      master.decRef();
      await Promise.race([pump, Promise.resolve()]);
    },
  };
}
