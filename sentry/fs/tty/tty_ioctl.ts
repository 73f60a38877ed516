// The terminal ioctls both sides of a pty answer (termios, window size, queue sizes,
// flushing), and the session/job-control ones only the program side answers.

import { rootId, vpid } from '../../kernel/pid_namespace.js';
import { E } from '../../abi/errno.js';
import { err, isErr, type Result } from '../../abi/result.js';
import { SIG } from '../../kernel/signals.js';
import type { Task } from '../../kernel/task.js';
import { backgroundCheck, dropControllingTty, isControllingTty, setControllingTty, setForeground } from './job_control.js';
import { Termios, TERMIOS_SIZE } from './termios.js';
import type { Tty } from './tty.js';

export const TIOC = {
  TCGETS: 0x5401,
  TCSETS: 0x5402,
  TCSETSW: 0x5403,
  TCSETSF: 0x5404,
  TCSBRK: 0x5409,
  TCXONC: 0x540a,
  TCFLSH: 0x540b,
  TIOCEXCL: 0x540c,
  TIOCNXCL: 0x540d,
  TIOCSCTTY: 0x540e,
  TIOCGPGRP: 0x540f,
  TIOCSPGRP: 0x5410,
  TIOCOUTQ: 0x5411,
  TIOCGWINSZ: 0x5413,
  TIOCSWINSZ: 0x5414,
  FIONREAD: 0x541b,
  TIOCNOTTY: 0x5422,
  TIOCSETD: 0x5423,
  TIOCGETD: 0x5424,
  TCSBRKP: 0x5425,
  TIOCGSID: 0x5429,
  TIOCGPTN: 0x80045430,
  TIOCSPTLCK: 0x40045431,
  TIOCGPTLCK: 0x80045439,
  TIOCGPTPEER: 0x5441,
} as const;

const TCFLSH_ARG = { TCIFLUSH: 0, TCOFLUSH: 1, TCIOFLUSH: 2 } as const;
const TCXONC_ARG = { TCOOFF: 0, TCOON: 1, TCIOFF: 2, TCION: 3 } as const;

function putU32(t: Task, addr: number, v: number): Result<number> {
  const r = t.mem.writeU32(addr, v >>> 0);
  return isErr(r) ? r : 0;
}

/**
 * Ioctls common to both sides; undefined when cmd is not one of them. progSide: the caller
 * holds the program side (job control applies to its mode changes).
 */
export function ttyCommonIoctl(t: Task, tty: Tty, cmd: number, arg: number, progSide: boolean): Result<number> | undefined {
  const jobCheck = (): Result<void> | undefined => (progSide ? backgroundCheck(t, tty, SIG.SIGTTOU) : undefined);
  switch (cmd) {
    case TIOC.TCGETS: {
      const r = t.mem.copyOut(arg, tty.termios.encode());
      return isErr(r) ? r : 0;
    }
    case TIOC.TCSETS:
    case TIOC.TCSETSW:
    case TIOC.TCSETSF: {
      const raw = t.mem.copyIn(arg, TERMIOS_SIZE);
      if (isErr(raw)) return raw;
      const bg = jobCheck();
      if (bg !== undefined) return bg;
      // Output is handed to the terminal side at once, so TCSETSW has nothing to drain.
      if (cmd === TIOC.TCSETSF) tty.flush(true, false);
      tty.setTermios(Termios.decode(raw));
      return 0;
    }
    case TIOC.TIOCGWINSZ: {
      const b = new Uint8Array(8);
      const v = new DataView(b.buffer);
      v.setUint16(0, tty.winsize.rows, true);
      v.setUint16(2, tty.winsize.cols, true);
      v.setUint16(4, tty.winsize.xpixel, true);
      v.setUint16(6, tty.winsize.ypixel, true);
      const r = t.mem.copyOut(arg, b);
      return isErr(r) ? r : 0;
    }
    case TIOC.TIOCSWINSZ: {
      const raw = t.mem.copyIn(arg, 8);
      if (isErr(raw)) return raw;
      const v = new DataView(raw.buffer, raw.byteOffset, 8);
      setWinsize(tty, { rows: v.getUint16(0, true), cols: v.getUint16(2, true), xpixel: v.getUint16(4, true), ypixel: v.getUint16(6, true) });
      return 0;
    }
    case TIOC.TIOCOUTQ:
      return putU32(t, arg, progSide ? tty.pendingOutput : 0);
    case TIOC.TCFLSH: {
      if (arg !== TCFLSH_ARG.TCIFLUSH && arg !== TCFLSH_ARG.TCOFLUSH && arg !== TCFLSH_ARG.TCIOFLUSH) return err(E.EINVAL);
      const bg = jobCheck();
      if (bg !== undefined) return bg;
      // The master's view is reversed: its input is the program's output.
      const inQ = arg !== TCFLSH_ARG.TCOFLUSH;
      const outQ = arg !== TCFLSH_ARG.TCIFLUSH;
      if (progSide) tty.flush(inQ, outQ);
      else tty.flush(outQ, inQ);
      return 0;
    }
    case TIOC.TCSBRK:
    case TIOC.TCSBRKP:
      // Output never waits inside the line discipline: there is nothing to drain, and a pty sends no break.
      return 0;
    case TIOC.TCXONC: {
      switch (arg) {
        case TCXONC_ARG.TCOOFF: tty.outputStopped = true; return 0;
        case TCXONC_ARG.TCOON: tty.resumeOutput(); return 0;
        case TCXONC_ARG.TCIOFF: case TCXONC_ARG.TCION: {
          // Send STOP/START to the terminal side, as Linux does for a pty.
          const c = tty.termios.cc[arg === TCXONC_ARG.TCIOFF ? 9 : 8];
          if (c !== 0) tty.write(Uint8Array.of(c));
          return 0;
        }
        default: return err(E.EINVAL);
      }
    }
    case TIOC.TIOCGETD:
      return putU32(t, arg, tty.termios.line);
    case TIOC.TIOCSETD: {
      const v = t.mem.readU32(arg);
      if (isErr(v)) return v;
      // Only N_TTY (0) exists here.
      return v === 0 ? 0 : err(E.EINVAL);
    }
    case TIOC.TIOCEXCL:
    case TIOC.TIOCNXCL:
      return 0;
    default:
      return undefined;
  }
}

/** TIOCSWINSZ: a change of size sends SIGWINCH to the foreground group. */
export function setWinsize(tty: Tty, ws: Tty['winsize']): void {
  const old = tty.winsize;
  tty.winsize = ws;
  const s = tty.session;
  if (s !== undefined && (old.rows !== ws.rows || old.cols !== ws.cols || old.xpixel !== ws.xpixel || old.ypixel !== ws.ypixel)) {
    s.kernel.signalProcessGroup(s.fgPgrp, SIG.SIGWINCH);
  }
}

/** Session ioctls of the program side (and of /dev/tty). */
export function ttySessionIoctl(t: Task, tty: Tty, cmd: number, arg: number): Result<number> | undefined {
  switch (cmd) {
    case TIOC.TIOCSCTTY: {
      const r = setControllingTty(t, tty, arg === 1);
      return isErr(r) ? r : 0;
    }
    case TIOC.TIOCNOTTY: {
      const r = dropControllingTty(t, tty);
      return isErr(r) ? r : 0;
    }
    case TIOC.TIOCGPGRP:
      if (!isControllingTty(t, tty) || tty.session === undefined) return err(E.ENOTTY);
      return putU32(t, arg, vpid(t, tty.session.fgPgrp));
    case TIOC.TIOCSPGRP: {
      const v = t.mem.readU32(arg);
      if (isErr(v)) return v;
      // The group is named in the caller's pid namespace (0, which no group has, if it has none).
      const r = setForeground(t, tty, (v | 0) < 0 ? v | 0 : rootId(t, v | 0) ?? 0);
      return isErr(r) ? r : 0;
    }
    case TIOC.TIOCGSID:
      if (!isControllingTty(t, tty) || tty.session === undefined) return err(E.ENOTTY);
      return putU32(t, arg, vpid(t, tty.session.sid));
    case TIOC.FIONREAD:
      return putU32(t, arg, tty.readableBytes);
    default:
      return undefined;
  }
}
