// A task's filesystem context (Linux struct fs_struct): root, working directory, umask.
// fork copies it; CLONE_FS shares the object.

import type { Location } from './mount.js';

export class FsContext {
  constructor(
    public root: Location,
    public cwd: Location,
    public umask = 0o022,
  ) {}

  clone(): FsContext {
    return new FsContext(this.root, this.cwd, this.umask);
  }
}
