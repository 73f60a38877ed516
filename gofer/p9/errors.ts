// A malformed 9P frame becomes a value, never an exception: it carries the errno a server
// answers with (in an Rlerror for `tag`) and a reason for logs.

import { SysError } from '../../sentry/abi/result.js';

export class P9ProtocolError extends SysError {
  constructor(
    errno: number,
    /** The frame's tag when the header was readable, else null (no reply is possible). */
    readonly tag: number | null,
    /** The frame's type byte when readable, else null. */
    readonly msgType: number | null,
    readonly reason: string,
  ) {
    super(errno);
  }
}

export function isProtocolError(x: unknown): x is P9ProtocolError {
  return x instanceof P9ProtocolError;
}
