// Turning an error thrown by node:fs into a SysError. Only the host-facing filesystems use
// this; whatever the host says, the app sees a plain errno.

import { E } from '../../abi/errno.js';
import { err, type SysError } from '../../abi/result.js';

export function hostErr(e: unknown): SysError {
  if (typeof e === 'object' && e !== null) {
    const n = (e as { errno?: unknown }).errno;
    // libuv reports -errno on Unix.
    if (typeof n === 'number' && n < 0 && n > -4096) return err(-n);
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code in E) return err(E[code as keyof typeof E]);
  }
  return err(E.EIO);
}

export function hostCode(e: unknown): string | undefined {
  const c = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  return typeof c === 'string' ? c : undefined;
}
