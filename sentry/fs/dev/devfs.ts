// The sandbox's /dev, built in the Sentry (the host's /dev is never visible), and the empty
// placeholders mounted on /proc and /sys until procfs and sysfs exist.

import { E } from '../../abi/errno.js';
import { err } from '../../abi/result.js';
import type { FileDescription } from '../../vfs/file.js';
import type { Location } from '../../vfs/mount.js';
import { SynthDevice, SyntheticFs } from '../../vfs/synthetic.js';
import { FullFile, NullFile, RandomFile, ZeroFile } from './devices.js';

const TMPFS_MAGIC = 0x01021994n;
const PROC_SUPER_MAGIC = 0x9fa0n;
const SYSFS_MAGIC = 0x62656572n;

type DeviceCtor = new (flags: number, loc: Location) => FileDescription;

/** Builds a devfs: null, zero, full, random, urandom, tty (ENXIO: no controlling tty), fd/std* links. */
export function createDevFs(): SyntheticFs {
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
  root.addDevice('tty', new SynthDevice(fs, 5, 0, 0o666, () => err(E.ENXIO)));
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
