// Errors inside the Sentry are values, never thrown: a SysError carries a Linux errno.

export class SysError {
  constructor(readonly errno: number) {}
}

const cache: SysError[] = [];

/** The shared SysError for an errno (allocation-free on hot paths). */
export function err(errno: number): SysError {
  let e = cache[errno];
  if (e === undefined) {
    e = new SysError(errno);
    cache[errno] = e;
  }
  return e;
}

export function isErr(x: unknown): x is SysError {
  return x instanceof SysError;
}

export type Result<T> = T | SysError;
export type MaybePromise<T> = T | Promise<T>;

/** A syscall's return value in rax form: -errno for an error. */
export function toRet(r: Result<number>): number {
  return r instanceof SysError ? -r.errno : r;
}
