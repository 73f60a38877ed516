// The sandbox's /dev, built in the Sentry (the host's /dev is never visible), and the empty
// placeholders mounted on /proc and /sys until procfs and sysfs exist.

import { E } from '../../abi/errno.js';
import { err, type Result } from '../../abi/result.js';
import { Task } from '../../kernel/task.js';
import { S } from '../../vfs/constants.js';
import type { FileDescription } from '../../vfs/file.js';
import type { Opener } from '../../vfs/inode.js';
import type { Location } from '../../vfs/mount.js';
import { makedev } from '../../vfs/stat.js';
import { SynthDevice, SynthInode, SyntheticFs } from '../../vfs/synthetic.js';
import { DevptsFs, openTtyAgain, PtmxNode } from '../devpts/devpts.js';
import { controllingTty } from '../tty/job_control.js';
import { FullFile, NullFile, RandomFile, ZeroFile } from './devices.js';

const TMPFS_MAGIC = 0x01021994n;
const PROC_SUPER_MAGIC = 0x9fa0n;
const SYSFS_MAGIC = 0x62656572n;

type DeviceCtor = new (flags: number, loc: Location) => FileDescription;

/** /dev/tty: the opener's controlling terminal (ENXIO when its session has none). */
class ControllingTtyNode extends SynthInode {
  constructor(fs: SyntheticFs) {
    super(fs, S.IFCHR | 0o666);
  }
  protected override get rdev(): bigint {
    return makedev(5, 0);
  }
  open(loc: Location, flags: number, opener?: Opener): Result<FileDescription> {
    const t = opener?.ctx;
    const tty = t instanceof Task ? controllingTty(t) : undefined;
    return tty === undefined ? err(E.ENXIO) : openTtyAgain(tty, loc, flags);
  }
}

/**
 * Builds a devfs: null, zero, full, random, urandom, tty, ptmx (allocating ptys on
 * devpts, which the caller mounts on /dev/pts), the pts and shm mount points, fd/std* links.
 */
export function createDevFs(devpts: DevptsFs = new DevptsFs()): SyntheticFs {
  const fs = new SyntheticFs('devfs', TMPFS_MAGIC);
  const root = fs.rootDir;
  const dev = (name: string, major: number, minor: number, ctor: DeviceCtor): void => {
    root.addDevice(name, new SynthDevice(fs, major, minor, 0o666, (loc, flags) => new ctor(flags, loc)));
  };
  dev('null', 1, 3, NullFile);
  dev('zero', 1, 5, ZeroFile);
  dev('full', 1, 7, FullFile);
  dev('random', 1, 8, RandomFile);
  dev('urandom', 1, 9, RandomFile);
  root.children.set('tty', new ControllingTtyNode(fs));
  root.children.set('ptmx', new PtmxNode(fs, devpts, 0o666));
  root.addDir('pts');
  root.addDir('shm', 0o1777);
  // Where an OCI config's mqueue mount goes (devfs is read-only: the mount point must exist).
  root.addDir('mqueue', 0o1777);
  root.addSymlink('fd', '/proc/self/fd');
  root.addSymlink('stdin', '/proc/self/fd/0');
  root.addSymlink('stdout', '/proc/self/fd/1');
  root.addSymlink('stderr', '/proc/self/fd/2');
  return fs;
}

/** An empty read-only directory filesystem hiding the host's /proc or /sys. */
export function createEmptyFs(kind: 'proc' | 'sysfs'): SyntheticFs {
  return new SyntheticFs(kind, kind === 'proc' ? PROC_SUPER_MAGIC : SYSFS_MAGIC);
}
