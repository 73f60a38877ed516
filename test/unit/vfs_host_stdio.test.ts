import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E } from '../../sentry/abi/errno.js';
import { HostStdioFile } from '../../sentry/fs/host/stdio.js';
import { Credentials } from '../../sentry/kernel/credentials.js';
import type { Task } from '../../sentry/kernel/task.js';
import { O, POLL } from '../../sentry/vfs/constants.js';
import { SYS } from '../../sentry/abi/sysno.js';
import { pollSyscalls } from '../../sentry/syscalls/sys_poll.js';
import { args, fakeTask } from './vfs_fake_task.js';
import { Vfs } from '../../sentry/vfs/vfs.js';
import { createEmptyFs } from '../../sentry/fs/dev/devfs.js';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvisor-stdio-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('host stdio files', () => {
  it('reads a host file asynchronously to EOF and reports it once', async () => {
    fs.writeFileSync(`${dir}/in`, 'abc');
    const fd = fs.openSync(`${dir}/in`, 'r');
    const f = new HostStdioFile(fd, O.RDONLY);
    const buf = new Uint8Array(2);
    const r1 = f.read(buf, {});
    expect(r1).toBeInstanceOf(Promise);
    expect(await r1).toBe(2);
    expect(await f.read(buf, {})).toBe(1);
    expect(buf[0]).toBe(0x63);
    expect(await f.read(buf, {})).toBe(0);
    expect(f.write(new Uint8Array(1))).toEqual(expect.objectContaining({ errno: E.EBADF }));
    fs.closeSync(fd);
  });

  it('writes to the host fd and answers fstat and ENOTTY from it', () => {
    const fd = fs.openSync(`${dir}/out`, 'w');
    const f = new HostStdioFile(fd, O.WRONLY);
    expect(f.write(new TextEncoder().encode('out!'))).toBe(4);
    expect(fs.readFileSync(`${dir}/out`, 'utf8')).toBe('out!');
    const st = f.stat();
    expect('size' in st && st.size).toBe(4n);
    expect(f.isTty).toBe(false);
    const { t } = fakeTask(new Vfs(createEmptyFs('proc')), new Credentials());
    expect(f.ioctl(t, 0x5401, 0)).toEqual(expect.objectContaining({ errno: E.ENOTTY }));
    expect(f.ioctl(t, 0x5413, 0)).toEqual(expect.objectContaining({ errno: E.ENOTTY }));
    fs.closeSync(fd);
  });

  it('a read waiting on a host fifo leaves the event loop free, and poll wakes on data', async () => {
    execFileSync('mkfifo', [`${dir}/fifo`]);
    // O_RDWR opens a fifo without waiting for a peer (Linux).
    const rfd = fs.openSync(`${dir}/fifo`, fs.constants.O_RDWR);
    const wfd = fs.openSync(`${dir}/fifo`, fs.constants.O_WRONLY);
    const f = new HostStdioFile(rfd, O.RDONLY);
    const { t } = fakeTask(new Vfs(createEmptyFs('proc')));
    t.fds.installAt(0, f);
    const mem = (t as unknown as { mem: import('./vfs_fake_task.js').FakeMem }).mem;
    const pfd = mem.alloc(8);
    mem.view(pfd, 8).setInt32(0, 0, true);
    mem.view(pfd, 8).setInt16(4, POLL.IN, true);
    expect(pollSyscalls[SYS.poll](t as Task, args(pfd, 1, 0))).toBe(0);
    const polled = pollSyscalls[SYS.poll](t as Task, args(pfd, 1, 5000));
    let ticked = false;
    await new Promise<void>((r) => setTimeout(() => {
      ticked = true;
      r();
    }, 20));
    expect(ticked).toBe(true);
    fs.writeSync(wfd, 'data');
    expect(await polled).toBe(1);
    expect(mem.view(pfd, 8).getInt16(6, true)).toBe(POLL.IN);
    const buf = new Uint8Array(10);
    expect(f.read(buf, {})).toBe(4);
    // A blocking read now waits for the host; more data resolves it.
    const pending = f.read(buf, {});
    setTimeout(() => fs.writeSync(wfd, 'more'), 20);
    expect(await pending).toBe(4);
    fs.closeSync(wfd);
    fs.closeSync(rfd);
  });
});
