// A named pipe (mkfifo) on an in-memory filesystem: every open joins one Pipe. Opening for
// reading or writing waits for the other side unless O_NONBLOCK (then a writer without
// readers gets ENXIO). O_RDWR gives one description holding both ends, and never waits.

import { E } from '../../abi/errno.js';
import { err, type MaybePromise, type Result } from '../../abi/result.js';
import { O, POLL } from '../../vfs/constants.js';
import type { FileDescription } from '../../vfs/file.js';
import type { Location } from '../../vfs/mount.js';
import { Pipe, PipeRdwrFile, PipeReadFile, PipeWriteFile } from '../pipe/pipe.js';

export class FifoNode {
  private pipe = new Pipe();

  open(_loc: Location, flags: number): MaybePromise<Result<FileDescription>> {
    const p = this.current();
    const acc = flags & O.ACCMODE;
    const keep = flags & O.NONBLOCK;
    if (acc === O.RDWR) {
      const rw = new PipeRdwrFile(keep, p);
      p.queue.notify(POLL.IN | POLL.OUT);
      return rw;
    }
    if (acc === O.RDONLY) {
      const r = new PipeReadFile(keep, p);
      p.queue.notify(POLL.OUT);
      if (p.writers > 0 || keep !== 0) return r;
      return this.waitFor(p, () => p.writers > 0, r);
    }
    if (keep !== 0 && p.readers === 0) return err(E.ENXIO);
    const w = new PipeWriteFile(keep, p);
    p.queue.notify(POLL.IN);
    if (p.readers > 0) return w;
    return this.waitFor(p, () => p.readers > 0, w);
  }

  /** A fresh pipe once nobody holds the old one (its leftover data is gone, as on Linux). */
  private current(): Pipe {
    if (this.pipe.readers === 0 && this.pipe.writers === 0) this.pipe = new Pipe();
    return this.pipe;
  }

  private async waitFor(p: Pipe, ready: () => boolean, f: FileDescription): Promise<Result<FileDescription>> {
    while (!ready()) await p.queue.wait(POLL.IN | POLL.OUT);
    return f;
  }
}
