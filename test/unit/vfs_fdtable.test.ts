import { describe, expect, it } from 'vitest';
import { E } from '../../sentry/abi/errno.js';
import { createPipe } from '../../sentry/fs/pipe/pipe.js';
import { NullFile } from '../../sentry/fs/dev/devices.js';
import { FdTable } from '../../sentry/vfs/fd_table.js';
import { O } from '../../sentry/vfs/constants.js';

describe('FdTable', () => {
  it('installs at the lowest free fd, honours minFd and the limit', () => {
    const t = new FdTable(4);
    const f = new NullFile(O.RDWR, null as never);
    expect(t.install(f)).toBe(0);
    expect(t.install(f)).toBe(1);
    expect(t.install(f, {}, 3)).toBe(3);
    expect(t.close(1)).toBe(undefined);
    expect(t.install(f)).toBe(1);
    expect(t.install(f)).toBe(2);
    expect(t.install(f)).toEqual(expect.objectContaining({ errno: E.EMFILE }));
    expect(t.close(9)).toEqual(expect.objectContaining({ errno: E.EBADF }));
    expect(t.installAt(4, f)).toEqual(expect.objectContaining({ errno: E.EBADF }));
    expect(f.refCount).toBe(5);
  });

  it('dup2 replaces and releases the old file; the last close releases a pipe end', () => {
    const t = new FdTable();
    const { read, write } = createPipe();
    const r = t.install(read) as number;
    const w = t.install(write) as number;
    read.decRef();
    write.decRef();
    expect(t.installAt(10, write)).toBe(10);
    expect(t.get(10)).toBe(write);
    expect(t.close(w)).toBe(undefined);
    // fd 10 still holds the write end: no EOF yet.
    expect(read.read(new Uint8Array(1), {})).toBeInstanceOf(Promise);
    // dup2 over fd 10 closes the last write end.
    expect(t.installAt(10, read)).toBe(10);
    expect(read.read(new Uint8Array(1), {})).toBe(0);
    expect(t.get(r)).toBe(read);
  });

  it('close-on-exec and fork sharing descriptions (and so offsets)', () => {
    const t = new FdTable();
    const f = new NullFile(O.RDWR, null as never);
    t.install(f, { cloexec: true });
    t.install(f);
    const child = t.fork();
    expect(child.entry(0)?.cloexec).toBe(true);
    expect(child.get(1)).toBe(f);
    f.offset = 42;
    expect(child.get(1)?.offset).toBe(42);
    child.closeOnExec();
    expect(child.get(0)).toBe(undefined);
    expect(child.get(1)).toBe(f);
    expect(t.get(0)).toBe(f);
    expect(f.refCount).toBe(4);
    child.closeAll();
    t.closeAll();
    expect(f.refCount).toBe(1);
    expect(t.size).toBe(0);
  });
});
