// "#!" interpreter lines, parsed as Linux's binfmt_script does: only the first 256 bytes
// are looked at, the interpreter path must not be truncated, and everything after it (one
// run of spaces/tabs later) up to the end of the line is a single optional argument.

import { E } from '../abi/errno.js';
import { err, type Result } from '../abi/result.js';

/** BINPRM_BUF_SIZE: how much of a file exec looks at to recognise its format. */
export const BINPRM_BUF_SIZE = 256;

export interface Shebang {
  readonly interpreter: string;
  readonly arg?: string;
}

export function isScript(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x23 /* # */ && head[1] === 0x21 /* ! */;
}

const isSpaceTab = (c: number): boolean => c === 0x20 || c === 0x09;

/** Index of the first non-space/tab in [first, last], or -1. */
function nextNonSpaceTab(buf: Uint8Array, first: number, last: number): number {
  for (let i = first; i <= last; i++) if (!isSpaceTab(buf[i])) return i;
  return -1;
}

/** Index of the first space/tab/NUL in [first, last], or -1. */
function nextTerminator(buf: Uint8Array, first: number, last: number): number {
  for (let i = first; i <= last; i++) if (isSpaceTab(buf[i]) || buf[i] === 0) return i;
  return -1;
}

/** The bytes from start up to end or the first NUL before it (a C string cut at end). */
function cString(buf: Uint8Array, start: number, end: number): string {
  let stop = start;
  while (stop < end && buf[stop] !== 0) stop++;
  return new TextDecoder().decode(buf.subarray(start, stop));
}

/**
 * Parses a script's interpreter line from the file's first bytes. ENOEXEC when it is not a
 * script, when the line holds no interpreter, or when the interpreter path may be truncated.
 */
export function parseShebang(head: Uint8Array): Result<Shebang> {
  if (!isScript(head)) return err(E.ENOEXEC);
  // Linux's buffer is zero-padded when the file is shorter than it.
  const buf = new Uint8Array(BINPRM_BUF_SIZE);
  buf.set(head.subarray(0, BINPRM_BUF_SIZE));
  const bufEnd = BINPRM_BUF_SIZE - 1;

  let iEnd = buf.indexOf(0x0a /* \n */);
  if (iEnd < 0) {
    const first = nextNonSpaceTab(buf, 2, bufEnd);
    if (first < 0) return err(E.ENOEXEC); // all spaces/tabs
    // Without a later space/tab/NUL the interpreter path is assumed truncated.
    if (nextTerminator(buf, first, bufEnd) < 0) return err(E.ENOEXEC);
    iEnd = bufEnd;
  }
  while (isSpaceTab(buf[iEnd - 1])) iEnd--;

  const iName = nextNonSpaceTab(buf, 2, iEnd);
  if (iName < 0 || iName === iEnd) return err(E.ENOEXEC);

  let arg: string | undefined;
  const iSep = nextTerminator(buf, iName, iEnd);
  if (iSep >= 0 && buf[iSep] !== 0) {
    const iArg = nextNonSpaceTab(buf, iSep, iEnd);
    // Linux passes the argument when one starts before the line's end (it may be empty only
    // if it begins with a NUL, which C-string semantics then make "").
    if (iArg >= 0 && iArg < iEnd) arg = cString(buf, iArg, iEnd);
  }
  const nameEnd = iSep >= 0 && iSep < iEnd ? iSep : iEnd;
  const interpreter = cString(buf, iName, nameEnd);
  return arg === undefined ? { interpreter } : { interpreter, arg };
}
