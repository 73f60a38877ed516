// Host fds the Gofer donates (SCM_RIGHTS on a SOCK_SEQPACKET socket), each tagged with the
// fid it was opened for. The Gofer sends a donation before its Rlopen/Rlcreate reply, so
// by the time the reply is seen the fd is already queued here.

import { goferNative } from '../../../gofer/confine/native_gofer.js';

export class Donations {
  private readonly byFid = new Map<number, number>();
  private closed = false;

  constructor(private readonly sock: number) {}

  /** The fd donated for `fid` by the open just answered, or null; the caller owns it. */
  take(fid: number): number | null {
    this.drain();
    const fd = this.byFid.get(fid);
    if (fd === undefined) return null;
    this.byFid.delete(fid);
    return fd;
  }

  /** Closes whatever was donated for `fid` (an open whose fd we do not want). */
  discard(fid: number): void {
    const fd = this.take(fid);
    if (fd !== null) goferNative().closeFd(fd);
  }

  private drain(): void {
    if (this.closed) return;
    const n = goferNative();
    for (;;) {
      const r = n.recvFd(this.sock);
      if (typeof r === 'number') return;
      const [fid, fd] = r;
      if (fd < 0) continue;
      // A donation nobody claimed (its open was flushed) is replaced, not leaked.
      const old = this.byFid.get(fid);
      if (old !== undefined) n.closeFd(old);
      this.byFid.set(fid, fd);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const n = goferNative();
    for (const fd of this.byFid.values()) n.closeFd(fd);
    this.byFid.clear();
    n.closeFd(this.sock);
  }
}
