// A terminal and its line discipline (Linux's N_TTY): bytes typed on the terminal side
// (a pty master's writes) go through input processing (CR/NL mapping, signal characters,
// canonical line editing, echo) into the reader's queue; bytes the program writes go
// through output processing (NL -> CRNL...) into the terminal side's queue. The files on
// each side (pty master, slave, /dev/tty) wrap a Tty and decide when to block.

import type { Kernel } from '../../kernel/kernel.js';
import { SIG } from '../../kernel/signals.js';
import { POLL } from '../../vfs/constants.js';
import { WaitQueue } from '../../vfs/wait_queue.js';
import { IFLAG, LFLAG, OFLAG, Termios, VC, type Winsize } from './termios.js';

/** Linux's N_TTY_BUF_SIZE: a canonical line holds at most 4095 characters plus its end. */
const MAX_CANON = 4095;
/** Queued bytes on either side beyond which writers wait. */
export const TTY_QUEUE_MAX = 65536;

const READABLE = POLL.IN | POLL.RDNORM;
const WRITABLE = POLL.OUT | POLL.WRNORM;

/** The session a terminal controls, and its foreground process group. */
export interface TtySession {
  readonly kernel: Kernel;
  readonly sid: number;
  fgPgrp: number;
}

export class Tty {
  termios = new Termios();
  winsize: Winsize = { rows: 0, cols: 0, xpixel: 0, ypixel: 0 };
  session: TtySession | undefined;
  /** Woken when the program side can read or write (its readers, writers and pollers). */
  readonly slaveQueue = new WaitQueue();
  /** Woken when the terminal side can read or write. */
  readonly masterQueue = new WaitQueue();
  /** The terminal side is gone: the program side reads EOF and cannot write. */
  hungUp = false;

  /** The canonical line being edited. */
  private edit: number[] = [];
  /** Input the program can read; in canonical mode one chunk per line (empty: end of file). */
  private input: Uint8Array[] = [];
  private inputBytes = 0;
  /** Output the terminal side has not read yet. */
  private output: Uint8Array[] = [];
  private outputBytes = 0;
  /** ^S (IXON) stopped output until ^Q. */
  outputStopped = false;
  /** The previous character was VLNEXT: take the next one literally. */
  private literalNext = false;
  /** Output column, for ONOCR and erasing tabs. */
  private column = 0;

  constructor(readonly index: number) {}

  // ---- the terminal side ----

  /** Room for more typed input (writers on the terminal side wait when there is none). */
  get inputSpace(): number {
    return TTY_QUEUE_MAX - this.inputBytes - this.edit.length;
  }

  /** Processes typed bytes; returns how many were taken (0 when the input queue is full). */
  type(src: Uint8Array): number {
    let n = 0;
    while (n < src.length && this.inputSpace > 0) this.receive(src[n++]);
    return n;
  }

  get pendingOutput(): number {
    return this.outputStopped ? 0 : this.outputBytes;
  }

  /** Moves program output into dst for the terminal side. */
  takeOutput(dst: Uint8Array): number {
    if (this.outputStopped) return 0;
    const n = takeChunks(this.output, dst, false);
    this.outputBytes -= n;
    if (n > 0) this.slaveQueue.notify(WRITABLE);
    return n;
  }

  // ---- the program side ----

  get outputSpace(): number {
    return TTY_QUEUE_MAX - this.outputBytes;
  }

  /** Bytes a read could return now (FIONREAD; for a canonical reader only whole lines count). */
  get readableBytes(): number {
    return this.inputBytes;
  }

  /** Whether a read would return now without waiting for more input. */
  canRead(min = 1): boolean {
    if (this.termios.lOn(LFLAG.ICANON)) return this.input.length > 0;
    return this.inputBytes >= min;
  }

  /** A canonical read: at most one line (0 for an end-of-file line). */
  readLine(dst: Uint8Array): number {
    const first = this.input[0];
    if (first === undefined) return 0;
    const n = Math.min(dst.length, first.length);
    dst.set(first.subarray(0, n));
    if (n === first.length) this.input.shift();
    else this.input[0] = first.subarray(n);
    this.inputBytes -= n;
    this.masterQueue.notify(WRITABLE);
    return n;
  }

  /** A non-canonical read: whatever is queued, up to dst.length. */
  readRaw(dst: Uint8Array): number {
    const n = takeChunks(this.input, dst, true);
    this.inputBytes -= n;
    if (n > 0) this.masterQueue.notify(WRITABLE);
    return n;
  }

  /** Queues program output through output processing. */
  write(src: Uint8Array): void {
    this.emit(src);
  }

  /** Replaces the termios (TCSETS*); turning ICANON off makes the edited line readable. */
  setTermios(t: Termios): void {
    const wasCanon = this.termios.lOn(LFLAG.ICANON);
    this.termios = t;
    if (wasCanon && !t.lOn(LFLAG.ICANON) && this.edit.length > 0) this.commitLine();
    if (!t.iOn(IFLAG.IXON) && this.outputStopped) this.resumeOutput();
    this.slaveQueue.notify(READABLE);
  }

  /** TCFLSH / signal characters: discards queued input and/or output. */
  flush(input: boolean, output: boolean): void {
    if (input) {
      this.edit = [];
      this.input = [];
      this.inputBytes = 0;
      this.masterQueue.notify(WRITABLE);
    }
    if (output) {
      this.output = [];
      this.outputBytes = 0;
      this.slaveQueue.notify(WRITABLE);
    }
  }

  /** The terminal side closed: the program side sees a hangup. */
  hangup(): void {
    this.hungUp = true;
    this.flush(true, true);
    this.slaveQueue.notify(READABLE | WRITABLE | POLL.HUP | POLL.ERR);
    const s = this.session;
    if (s !== undefined) {
      // Linux signals the session leader and the foreground group with SIGHUP then SIGCONT.
      const leader = s.kernel.groups.get(s.sid);
      if (leader !== undefined && leader.pgid !== s.fgPgrp) {
        s.kernel.sendSignal(leader, SIG.SIGHUP);
        s.kernel.sendSignal(leader, SIG.SIGCONT);
      }
      s.kernel.signalProcessGroup(s.fgPgrp, SIG.SIGHUP);
      s.kernel.signalProcessGroup(s.fgPgrp, SIG.SIGCONT);
      this.session = undefined;
    }
  }

  // ---- input processing ----

  private receive(ch: number): void {
    const tm = this.termios;
    let c = tm.iOn(IFLAG.ISTRIP) ? ch & 0x7f : ch;
    if (this.literalNext) {
      this.literalNext = false;
      this.addChar(c);
      return;
    }
    if (c === 13) {
      if (tm.iOn(IFLAG.IGNCR)) return;
      if (tm.iOn(IFLAG.ICRNL)) c = 10;
    } else if (c === 10 && tm.iOn(IFLAG.INLCR)) {
      c = 13;
    }
    if (tm.lOn(LFLAG.ISIG)) {
      const signo = tm.is(c, VC.VINTR) ? SIG.SIGINT : tm.is(c, VC.VQUIT) ? SIG.SIGQUIT : tm.is(c, VC.VSUSP) ? SIG.SIGTSTP : 0;
      if (signo !== 0) {
        if (!tm.lOn(LFLAG.NOFLSH)) this.flush(true, true);
        if (tm.lOn(LFLAG.ECHO)) this.echo(c);
        const s = this.session;
        if (s !== undefined) s.kernel.signalProcessGroup(s.fgPgrp, signo);
        return;
      }
    }
    if (tm.iOn(IFLAG.IXON)) {
      if (tm.is(c, VC.VSTOP)) {
        this.outputStopped = true;
        return;
      }
      if (tm.is(c, VC.VSTART)) {
        this.resumeOutput();
        return;
      }
      if (this.outputStopped && tm.iOn(IFLAG.IXANY)) this.resumeOutput();
    }
    if (!tm.lOn(LFLAG.ICANON)) {
      this.addChar(c);
      return;
    }
    const ext = tm.lOn(LFLAG.IEXTEN);
    if (ext && tm.is(c, VC.VLNEXT)) {
      this.literalNext = true;
      if (tm.lOn(LFLAG.ECHO) && tm.lOn(LFLAG.ECHOCTL)) this.emit(Uint8Array.of(0x5e, 8));
      return;
    }
    if (tm.is(c, VC.VERASE)) return this.eraseChars(1, c);
    if (ext && tm.is(c, VC.VWERASE)) return this.eraseWord(c);
    if (tm.is(c, VC.VKILL)) return this.killLine(c);
    if (ext && tm.is(c, VC.VREPRINT)) {
      if (tm.lOn(LFLAG.ECHO)) {
        this.echo(c);
        this.emit(Uint8Array.of(10, ...this.edit));
      }
      return;
    }
    if (tm.is(c, VC.VEOF)) {
      this.commitLine();
      return;
    }
    this.addChar(c);
  }

  /** An ordinary character (or one taken literally). */
  private addChar(c: number): void {
    const tm = this.termios;
    if (!tm.lOn(LFLAG.ICANON)) {
      const last = this.input[this.input.length - 1];
      // Appending to the open raw chunk keeps reads from fragmenting byte by byte.
      if (last !== undefined && last.length < 256 && !this.lastIsLine) this.input[this.input.length - 1] = concat(last, c);
      else this.input.push(Uint8Array.of(c));
      this.lastIsLine = false;
      this.inputBytes++;
      if (tm.lOn(LFLAG.ECHO)) this.echo(c);
      this.slaveQueue.notify(READABLE);
      return;
    }
    const ends = c === 10 || tm.is(c, VC.VEOL) || tm.is(c, VC.VEOL2);
    if (!ends && this.edit.length >= MAX_CANON) return;
    this.edit.push(c);
    if (tm.lOn(LFLAG.ECHO) || (c === 10 && tm.lOn(LFLAG.ECHONL))) this.echo(c);
    if (ends) this.commitLine();
  }

  /** Whether the last input chunk is a finished canonical line (raw bytes must not join it). */
  private lastIsLine = false;

  private commitLine(): void {
    const line = Uint8Array.from(this.edit);
    this.edit = [];
    this.input.push(line);
    this.lastIsLine = true;
    this.inputBytes += line.length;
    this.slaveQueue.notify(READABLE);
  }

  /** Erases n characters of the edited line (a UTF-8 sequence counts as one with IUTF8). */
  private eraseChars(n: number, eraseChar: number): void {
    const tm = this.termios;
    for (let i = 0; i < n && this.edit.length > 0; i++) {
      let c = this.edit.pop() as number;
      if (tm.iOn(IFLAG.IUTF8)) {
        while ((c & 0xc0) === 0x80 && this.edit.length > 0) c = this.edit.pop() as number;
      }
      if (!tm.lOn(LFLAG.ECHO)) continue;
      if (!tm.lOn(LFLAG.ECHOE)) {
        this.echo(eraseChar);
        continue;
      }
      const width = c === 9 ? this.tabWidth() : isControl(c) && tm.lOn(LFLAG.ECHOCTL) ? 2 : 1;
      for (let w = 0; w < width; w++) this.emit(Uint8Array.of(8, 32, 8));
    }
  }

  /** Columns the last tab of the edited line took (what erasing it must back over). */
  private tabWidth(): number {
    let col = 0;
    for (const c of this.edit) col = c === 9 ? (col | 7) + 1 : col + (isControl(c) && this.termios.lOn(LFLAG.ECHOCTL) ? 2 : 1);
    return 8 - (col & 7);
  }

  private eraseWord(c: number): void {
    let n = 0;
    let i = this.edit.length - 1;
    while (i >= 0 && isSpace(this.edit[i])) { n++; i--; }
    while (i >= 0 && !isSpace(this.edit[i])) { n++; i--; }
    this.eraseChars(n, c);
  }

  private killLine(c: number): void {
    const tm = this.termios;
    if (!tm.lOn(LFLAG.ECHO)) {
      this.edit = [];
      return;
    }
    if (tm.lOn(LFLAG.ECHOKE) && tm.lOn(LFLAG.ECHOE)) {
      this.eraseChars(this.edit.length, c);
      return;
    }
    this.edit = [];
    this.echo(c);
    if (tm.lOn(LFLAG.ECHOK)) this.emit(Uint8Array.of(10));
  }

  /** Echoes c, control characters as ^X with ECHOCTL. */
  private echo(c: number): void {
    if (this.termios.lOn(LFLAG.ECHOCTL) && isControl(c) && c !== 9 && c !== 10) {
      this.emit(Uint8Array.of(0x5e, c === 127 ? 0x3f : c ^ 0x40));
    } else {
      this.emit(Uint8Array.of(c));
    }
  }

  /** Restarts output stopped by ^S or TCOOFF. */
  resumeOutput(): void {
    this.outputStopped = false;
    if (this.outputBytes > 0) this.masterQueue.notify(READABLE);
  }

  // ---- output processing ----

  /** Output processing (OPOST: ONLCR, OCRNL, ONOCR, ONLRET, OLCUC) into the output queue. */
  private emit(src: Uint8Array): void {
    if (this.hungUp || src.length === 0) return;
    const tm = this.termios;
    let out: Uint8Array = src;
    if (tm.oOn(OFLAG.OPOST)) {
      const b: number[] = [];
      for (let c of src) {
        if (c === 10) {
          if (tm.oOn(OFLAG.ONLCR)) {
            b.push(13, 10);
            this.column = 0;
            continue;
          }
          if (tm.oOn(OFLAG.ONLRET)) this.column = 0;
        } else if (c === 13) {
          if (tm.oOn(OFLAG.ONOCR) && this.column === 0) continue;
          if (tm.oOn(OFLAG.OCRNL)) {
            c = 10;
            if (tm.oOn(OFLAG.ONLRET)) this.column = 0;
          } else {
            this.column = 0;
          }
        } else if (c === 9) {
          this.column = (this.column | 7) + 1;
        } else if (c === 8) {
          if (this.column > 0) this.column--;
        } else if (!isControl(c) && (c & 0xc0) !== 0x80) {
          if (tm.oOn(OFLAG.OLCUC) && c >= 0x61 && c <= 0x7a) c -= 0x20;
          this.column++;
        }
        b.push(c);
      }
      out = Uint8Array.from(b);
    } else {
      out = src.slice();
    }
    this.output.push(out);
    this.outputBytes += out.length;
    if (!this.outputStopped) this.masterQueue.notify(READABLE);
  }
}

function isControl(c: number): boolean {
  return c < 32 || c === 127;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9;
}

function concat(a: Uint8Array, c: number): Uint8Array {
  const b = new Uint8Array(a.length + 1);
  b.set(a);
  b[a.length] = c;
  return b;
}

/** Moves bytes from the front of chunks into dst; skipEmpty drops end-of-file markers on the way. */
function takeChunks(chunks: Uint8Array[], dst: Uint8Array, skipEmpty: boolean): number {
  let n = 0;
  while (n < dst.length && chunks.length > 0) {
    const c = chunks[0];
    if (c.length === 0) {
      if (!skipEmpty) break;
      chunks.shift();
      continue;
    }
    const k = Math.min(c.length, dst.length - n);
    dst.set(c.subarray(0, k), n);
    n += k;
    if (k === c.length) chunks.shift();
    else chunks[0] = c.subarray(k);
  }
  return n;
}
