// A minimal sysfs: the CPU topology files programs size thread pools from
// (/sys/devices/system/cpu/{online,possible,present,cpuN}) and an empty /sys/fs/cgroup.

import { entries, GenDir, GenFile, GenFs, type Entries, type GenInode } from '../proc/nodes.js';

export const SYSFS_MAGIC = 0x62656572n;

export class SysFs extends GenFs {
  constructor(readonly cpus: number) {
    super('sysfs', SYSFS_MAGIC);
    const range = cpus > 1 ? `0-${cpus - 1}\n` : '0\n';
    const val = (v: string) => (p: string): GenInode => new GenFile(this, p, () => v);
    const dir = (f: () => Entries) => (p: string): GenInode => new GenDir(this, p, f, 0o755);
    const cpuEntries = (): Entries => {
      const e = entries([['online', val(range)], ['possible', val(range)], ['present', val(range)], ['kernel_max', val('8191\n')]]);
      for (let i = 0; i < cpus; i++) e.set(`cpu${i}`, dir(() => entries([['online', val('1\n')]])));
      return e;
    };
    this.rootNode = new GenDir(this, '', () => entries([
      ['devices', dir(() => entries([['system', dir(() => entries([['cpu', dir(cpuEntries)]]))]]))],
      ['fs', dir(() => entries([['cgroup', dir(() => new Map())]]))],
      ['kernel', dir(() => entries([['mm', dir(() => entries([['transparent_hugepage', dir(() => entries([['enabled', val('always madvise [never]\n')]]))]]))]]))],
    ]), 0o555);
  }
}
