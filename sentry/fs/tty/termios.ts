// struct termios as the kernel's TCGETS/TCSETS pass it (36 bytes: four u32 flag words,
// c_line, c_cc[19]), its flag bits and control-character slots, and Linux's defaults
// for a new terminal (tty_std_termios).

export const IFLAG = {
  IGNBRK: 0x1, BRKINT: 0x2, IGNPAR: 0x4, PARMRK: 0x8, INPCK: 0x10, ISTRIP: 0x20, INLCR: 0x40,
  IGNCR: 0x80, ICRNL: 0x100, IUCLC: 0x200, IXON: 0x400, IXANY: 0x800, IXOFF: 0x1000,
  IMAXBEL: 0x2000, IUTF8: 0x4000,
} as const;

export const OFLAG = { OPOST: 0x1, OLCUC: 0x2, ONLCR: 0x4, OCRNL: 0x8, ONOCR: 0x10, ONLRET: 0x20 } as const;

export const CFLAG = { B38400: 0xf, CS8: 0x30, CREAD: 0x80, HUPCL: 0x400 } as const;

export const LFLAG = {
  ISIG: 0x1, ICANON: 0x2, XCASE: 0x4, ECHO: 0x8, ECHOE: 0x10, ECHOK: 0x20, ECHONL: 0x40,
  NOFLSH: 0x80, TOSTOP: 0x100, ECHOCTL: 0x200, ECHOPRT: 0x400, ECHOKE: 0x800, FLUSHO: 0x1000,
  PENDIN: 0x4000, IEXTEN: 0x8000,
} as const;

/** Indices into c_cc. */
export const VC = {
  VINTR: 0, VQUIT: 1, VERASE: 2, VKILL: 3, VEOF: 4, VTIME: 5, VMIN: 6, VSWTC: 7, VSTART: 8,
  VSTOP: 9, VSUSP: 10, VEOL: 11, VREPRINT: 12, VDISCARD: 13, VWERASE: 14, VLNEXT: 15, VEOL2: 16,
} as const;

export const NCCS = 19;
export const TERMIOS_SIZE = 36;

/** ^C ^\ DEL ^U ^D, VTIME 0, VMIN 1, ..., ^Q ^S ^Z, ..., ^R ^O ^W ^V. */
const DEFAULT_CC = [3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22, 0, 0, 0];

export class Termios {
  iflag = IFLAG.ICRNL | IFLAG.IXON;
  oflag = OFLAG.OPOST | OFLAG.ONLCR;
  // A pty has no modem line: no HUPCL, unlike a serial terminal.
  cflag = CFLAG.B38400 | CFLAG.CS8 | CFLAG.CREAD;
  lflag = LFLAG.ISIG | LFLAG.ICANON | LFLAG.ECHO | LFLAG.ECHOE | LFLAG.ECHOK | LFLAG.ECHOCTL | LFLAG.ECHOKE | LFLAG.IEXTEN;
  line = 0;
  readonly cc = Uint8Array.from(DEFAULT_CC);

  encode(): Uint8Array {
    const b = new Uint8Array(TERMIOS_SIZE);
    const v = new DataView(b.buffer);
    v.setUint32(0, this.iflag, true);
    v.setUint32(4, this.oflag, true);
    v.setUint32(8, this.cflag, true);
    v.setUint32(12, this.lflag, true);
    b[16] = this.line;
    b.set(this.cc, 17);
    return b;
  }

  static decode(b: Uint8Array): Termios {
    const v = new DataView(b.buffer, b.byteOffset, TERMIOS_SIZE);
    const t = new Termios();
    t.iflag = v.getUint32(0, true);
    t.oflag = v.getUint32(4, true);
    t.cflag = v.getUint32(8, true);
    t.lflag = v.getUint32(12, true);
    t.line = b[16];
    t.cc.set(b.subarray(17, 17 + NCCS));
    return t;
  }

  lOn(bit: number): boolean {
    return (this.lflag & bit) !== 0;
  }
  iOn(bit: number): boolean {
    return (this.iflag & bit) !== 0;
  }
  oOn(bit: number): boolean {
    return (this.oflag & bit) !== 0;
  }
  /** Whether c is the (enabled) control character in slot i; 0 (_POSIX_VDISABLE) disables a slot. */
  is(c: number, i: number): boolean {
    return this.cc[i] !== 0 && this.cc[i] === c;
  }
}

export interface Winsize {
  rows: number;
  cols: number;
  xpixel: number;
  ypixel: number;
}
