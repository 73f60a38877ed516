import { describe, expect, it } from 'vitest';
import type { Kernel } from '../../sentry/kernel/kernel.js';
import { SIG } from '../../sentry/kernel/signals.js';
import { LFLAG, OFLAG, Termios, VC } from '../../sentry/fs/tty/termios.js';
import { Tty } from '../../sentry/fs/tty/tty.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

function output(tty: Tty): string {
  const b = new Uint8Array(4096);
  return dec(b.subarray(0, tty.takeOutput(b)));
}
function line(tty: Tty): string {
  const b = new Uint8Array(4096);
  return dec(b.subarray(0, tty.readLine(b)));
}
function withTermios(tty: Tty, f: (t: Termios) => void): void {
  const t = Termios.decode(tty.termios.encode());
  f(t);
  tty.setTermios(t);
}

describe('tty line discipline', () => {
  it('canonical mode: lines, CR to NL, echo with CRNL', () => {
    const tty = new Tty(0);
    tty.type(enc('ab'));
    expect(tty.canRead()).toBe(false);
    tty.type(enc('c\r'));
    expect(tty.canRead()).toBe(true);
    expect(line(tty)).toBe('abc\n');
    expect(output(tty)).toBe('abc\r\n');
  });

  it('erase, word erase, kill and EOF', () => {
    const tty = new Tty(0);
    tty.type(enc('abx\x7fc\n'));
    expect(line(tty)).toBe('abc\n');
    tty.type(enc('one two\x17three\n'));
    expect(line(tty)).toBe('one three\n');
    tty.type(enc('junk\x15ok\n'));
    expect(line(tty)).toBe('ok\n');
    tty.type(enc('\x04'));
    expect(tty.canRead()).toBe(true);
    expect(line(tty)).toBe('');
    output(tty);
    tty.type(enc('x\x7f'));
    expect(output(tty)).toBe('x\b \b');
  });

  it('signal characters go to the foreground group and flush the queues', () => {
    const sent: [number, number][] = [];
    const kernel = { signalProcessGroup: (pg: number, sig: number) => void sent.push([pg, sig]), groups: new Map() } as unknown as Kernel;
    const tty = new Tty(0);
    tty.session = { kernel, sid: 1, fgPgrp: 5 };
    tty.type(enc('partial\x03'));
    tty.type(enc('\x1c\x1a'));
    expect(sent).toEqual([[5, SIG.SIGINT], [5, SIG.SIGQUIT], [5, SIG.SIGTSTP]]);
    // Each signal character flushes pending output before echoing itself.
    expect(output(tty)).toBe('^Z');
    tty.type(enc('\n'));
    expect(line(tty)).toBe('\n');
  });

  it('raw mode passes bytes through; output processing follows OPOST/ONLCR', () => {
    const tty = new Tty(0);
    withTermios(tty, (t) => {
      t.lflag &= ~(LFLAG.ICANON | LFLAG.ECHO | LFLAG.ISIG);
      t.cc[VC.VMIN] = 1;
    });
    tty.type(enc('\x03x'));
    const b = new Uint8Array(8);
    expect(tty.readRaw(b)).toBe(2);
    expect([...b.subarray(0, 2)]).toEqual([3, 0x78]);
    tty.write(enc('a\nb'));
    expect(output(tty)).toBe('a\r\nb');
    withTermios(tty, (t) => {
      t.oflag &= ~OFLAG.OPOST;
    });
    tty.write(enc('a\nb'));
    expect(output(tty)).toBe('a\nb');
  });

  it('^S stops output until ^Q; hangup flushes and refuses more', () => {
    const tty = new Tty(0);
    tty.type(enc('\x13'));
    tty.write(enc('held'));
    expect(tty.pendingOutput).toBe(0);
    tty.type(enc('\x11'));
    expect(output(tty)).toBe('held');
    tty.hangup();
    tty.write(enc('lost'));
    expect(output(tty)).toBe('');
    expect(tty.hungUp).toBe(true);
  });
});
