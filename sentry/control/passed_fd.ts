// A host fd handed to the sandbox over the control socket (exec's stdio). Unlike the
// Sentry's own stdio it belongs to the sandbox: the host fd closes with its last reference,
// so the peer (an engine's pipe, a pty) sees EOF when the process is done with it.

import { closeSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { HostStdioFile } from '../fs/host/stdio.js';

export class PassedFdFile extends HostStdioFile {
  protected override release(): void {
    super.release();
    // A read stream, once started, owns the fd it reads: destroying it closes that fd.
    const stream = (this as unknown as { stream: Readable | null }).stream;
    if (stream !== null) {
      // libuv reopens a tty under a new fd (uv_tty_init): then ours is still open.
      const streamFd = (stream as unknown as { _handle?: { fd?: number } })._handle?.fd;
      stream.destroy();
      if (streamFd === this.hostFd) return;
    }
    try {
      closeSync(this.hostFd);
    } catch {
      // Already closed by the host side: nothing to release.
    }
  }
}
