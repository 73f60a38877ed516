// Something whose bytes can back a file mapping (a regular file's contents).

export interface Mappable {
  /** Stable identity, so one page cache per file can be shared later. */
  readonly id: string;
  /**
   * Fills dst with the file's bytes from offset; returns how many came from the file.
   * Bytes past end of file are left as they are (the caller zeroes them). Synchronous:
   * page faults are served without yielding (the Gofer donates fds for this).
   */
  readSync(offset: number, dst: Uint8Array): number;
}
