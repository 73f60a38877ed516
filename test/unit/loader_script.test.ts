import { describe, expect, it } from 'vitest';
import { E } from '../../sentry/abi/errno.js';
import { isErr } from '../../sentry/abi/result.js';
import { parseShebang, type Shebang } from '../../sentry/loader/script.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function parsed(s: string): Shebang {
  const r = parseShebang(enc(s));
  if (isErr(r)) throw new Error(`errno ${r.errno} for ${JSON.stringify(s)}`);
  return r;
}

function errnoOf(s: string): number | undefined {
  const r = parseShebang(enc(s));
  return isErr(r) ? r.errno : undefined;
}

describe('parseShebang', () => {
  it('takes the interpreter alone', () => {
    expect(parsed('#!/bin/sh\necho hi\n')).toEqual({ interpreter: '/bin/sh' });
  });

  it('takes one optional argument', () => {
    expect(parsed('#!/bin/sh -x\n')).toEqual({ interpreter: '/bin/sh', arg: '-x' });
  });

  it('keeps everything after the interpreter as one argument, trimming outer blanks', () => {
    expect(parsed('#!  \t/usr/bin/env  \t python3 -u  -O \t \nprint(1)\n'))
      .toEqual({ interpreter: '/usr/bin/env', arg: 'python3 -u  -O' });
  });

  it('treats tabs as separators', () => {
    expect(parsed('#!/bin/sh\t-e\n')).toEqual({ interpreter: '/bin/sh', arg: '-e' });
  });

  it('keeps a carriage return (the classic "bad interpreter: ^M")', () => {
    expect(parsed('#!/bin/sh\r\n')).toEqual({ interpreter: '/bin/sh\r' });
    expect(parsed('#!/bin/sh -e\r\n')).toEqual({ interpreter: '/bin/sh', arg: '-e\r' });
  });

  it('accepts a short file without a newline (the buffer is zero-padded)', () => {
    expect(parsed('#!/bin/sh')).toEqual({ interpreter: '/bin/sh' });
    expect(parsed('#!/bin/sh -x')).toEqual({ interpreter: '/bin/sh', arg: '-x' });
  });

  it('stops the interpreter at a NUL and then takes no argument', () => {
    expect(parsed('#!/bin/sh\0 -x\n')).toEqual({ interpreter: '/bin/sh' });
  });

  it('passes an empty argument when the argument starts with a NUL', () => {
    expect(parsed('#!/bin/sh \0x\n')).toEqual({ interpreter: '/bin/sh', arg: '' });
  });

  it('gives ENOEXEC when there is no interpreter on the line', () => {
    expect(errnoOf('#!\n')).toBe(E.ENOEXEC);
    expect(errnoOf('#!   \t \n/bin/sh\n')).toBe(E.ENOEXEC);
    expect(errnoOf('#!' + ' '.repeat(300))).toBe(E.ENOEXEC);
  });

  it('gives an empty interpreter for a bare "#!" file (the open then fails with EACCES)', () => {
    expect(parsed('#!')).toEqual({ interpreter: '' });
  });

  it('gives ENOEXEC when the interpreter path may be truncated at 256 bytes', () => {
    expect(errnoOf('#!/' + 'a'.repeat(300) + '\n')).toBe(E.ENOEXEC);
    expect(errnoOf('#!   /' + 'a'.repeat(300))).toBe(E.ENOEXEC);
  });

  it('truncates a long argument at the buffer end but keeps the interpreter', () => {
    const r = parsed('#!/bin/sh ' + 'b'.repeat(400) + '\n');
    expect(r.interpreter).toBe('/bin/sh');
    // Bytes 10..254: the last buffer byte becomes the terminator.
    expect(r.arg).toBe('b'.repeat(245));
  });

  it('finds a newline anywhere in the first 256 bytes', () => {
    expect(parsed('#!/bin/sh ' + 'c'.repeat(240) + '\n')).toEqual({ interpreter: '/bin/sh', arg: 'c'.repeat(240) });
  });

  it('gives ENOEXEC for a file that is not a script', () => {
    expect(errnoOf('# !/bin/sh\n')).toBe(E.ENOEXEC);
    expect(errnoOf('\x7fELF')).toBe(E.ENOEXEC);
    expect(errnoOf('')).toBe(E.ENOEXEC);
  });
});
