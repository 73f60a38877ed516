// struct sockaddr_un: sun_family, then either a path (NUL-terminated within the length) or,
// when sun_path[0] is NUL, an abstract name (every remaining byte counts, NULs included).

import { E } from '../../abi/errno.js';
import { err, type Result } from '../../abi/result.js';
import { AF } from '../constants.js';

/** offsetof(struct sockaddr_un, sun_path). */
export const SUN_PATH_OFFSET = 2;
/** sizeof(struct sockaddr_un). */
export const SOCKADDR_UN_SIZE = 110;

export type UnixAddress =
  | { kind: 'path'; path: string; raw: Uint8Array }
  | { kind: 'abstract'; name: Uint8Array; raw: Uint8Array };

/** Decodes a sockaddr_un; null for the bare family (addrlen 2: autobind on bind). */
export function parseUnixAddress(b: Uint8Array): Result<UnixAddress | null> {
  if (b.length < SUN_PATH_OFFSET || b.length > SOCKADDR_UN_SIZE) return err(E.EINVAL);
  if ((b[0] | (b[1] << 8)) !== AF.UNIX) return err(E.EINVAL);
  if (b.length === SUN_PATH_OFFSET) return null;
  const body = b.subarray(SUN_PATH_OFFSET);
  if (body[0] === 0) {
    const name = body.slice(1);
    return { kind: 'abstract', name, raw: b.slice() };
  }
  let end = body.indexOf(0);
  if (end < 0) end = body.length;
  const pathBytes = body.subarray(0, end);
  // The address Linux reports back: the path and one NUL.
  const raw = new Uint8Array(SUN_PATH_OFFSET + end + 1);
  raw.set(b.subarray(0, SUN_PATH_OFFSET));
  raw.set(pathBytes, SUN_PATH_OFFSET);
  return { kind: 'path', path: Buffer.from(pathBytes).toString('utf8'), raw };
}

/** An abstract address from its name bytes (autobind). */
export function abstractAddress(name: Uint8Array): UnixAddress {
  const raw = new Uint8Array(SUN_PATH_OFFSET + 1 + name.length);
  raw[0] = AF.UNIX;
  raw.set(name, SUN_PATH_OFFSET + 1);
  return { kind: 'abstract', name: name.slice(), raw };
}

/** The address of an unbound socket: the family alone. */
export function unnamedAddress(): Uint8Array {
  return Uint8Array.of(AF.UNIX, 0);
}
