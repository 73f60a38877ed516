// The real Gofer process (spawned from the bundle as the Sentry spawns it): it confines
// itself before serving (own mount namespace with only the export, no capabilities beyond
// file ownership, no-new-privs, seccomp), a forbidden syscall after confinement kills it
// with SIGSYS and the client then sees EIO, and `tsvisor debug seccomp gofer` shows the rules.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E } from '../../sentry/abi/errno.js';
import { isErr } from '../../sentry/abi/result.js';
import { goferNative } from '../../gofer/confine/native_gofer.js';
import { L_O } from '../../gofer/p9/constants.js';
import { startGofer, type GoferSession } from '../../sentry/fs/gofer/gofer_process.js';
import { TSVISOR } from './helpers.js';

function statusField(pid: number, name: string): string {
  const line = fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  return (line ?? '').slice(name.length + 1).trim();
}

describe('the Gofer process confines itself', () => {
  let dir: string;
  let g: GoferSession;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gofer-conf-'));
    fs.writeFileSync(path.join(dir, 'inside.txt'), 'inside');
    fs.mkdirSync(path.join(dir, 'sub'));
    const r = await startGofer({ root: dir, readOnly: false });
    if (isErr(r)) throw new Error(`startGofer: errno ${r.errno}`);
    g = r;
  });
  afterAll(() => {
    g.client.close();
    goferNative().childWait(g.pid, 1);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves the export', async () => {
    const w = await g.client.walk(g.rootFid, ['inside.txt']);
    if (isErr(w)) throw new Error('walk');
    expect(isErr(await g.client.lopen(w.fid, L_O.RDONLY))).toBe(false);
    const d = await g.client.readFull(w.fid, 0, 100);
    expect(isErr(d) ? d : Buffer.from(d).toString()).toBe('inside');
    await g.client.clunk(w.fid);
  });

  it('runs under seccomp with no-new-privs and only file-owner capabilities', () => {
    expect(statusField(g.pid, 'Seccomp')).toBe('2');
    expect(statusField(g.pid, 'NoNewPrivs')).toBe('1');
    expect(BigInt('0x' + statusField(g.pid, 'CapEff'))).toBe(0x1fn);
    expect(BigInt('0x' + statusField(g.pid, 'CapBnd'))).toBe(0x1fn);
  });

  it('sees only the export: its root is the export and no host mount is left', () => {
    expect(fs.readdirSync(`/proc/${g.pid}/root`).sort()).toEqual(['inside.txt', 'sub']);
    expect(fs.readlinkSync(`/proc/${g.pid}/ns/mnt`)).not.toBe(fs.readlinkSync('/proc/self/ns/mnt'));
    const mounts = fs.readFileSync(`/proc/${g.pid}/mountinfo`, 'utf8').trim().split('\n');
    // Every mount point, as the Gofer sees it, is its root: nothing else is mounted.
    expect(mounts.map((l) => l.split(' ')[4])).toEqual(['/']);
  });
});

describe('a forbidden syscall after confinement', () => {
  it('kills the Gofer with SIGSYS, and its client gets EIO instead of hanging', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gofer-kill-'));
    fs.writeFileSync(path.join(dir, 'f'), 'x');
    // The selftest Gofer tries to spawn /bin/true when sent SIGUSR2.
    const g = await startGofer({ root: dir, readOnly: true, selftestForbidden: true });
    if (isErr(g)) throw new Error(`startGofer: errno ${g.errno}`);
    const w0 = await g.client.walk(g.rootFid, ['f']);
    expect(isErr(w0)).toBe(false);
    process.kill(g.pid, 'SIGUSR2');
    const status = goferNative().childWait(g.pid, 1);
    expect(status & 0x7f).toBe(31); // SIGSYS
    const w = await g.client.walk(g.rootFid, ['f']);
    expect(isErr(w) && w.errno).toBe(E.EIO);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('tsvisor debug seccomp gofer', () => {
  it('prints the filter as rules a user can audit', () => {
    const r = spawnSync(process.execPath, [TSVISOR, 'debug', 'seccomp', 'gofer', '--pid', '4242'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    for (const want of ['openat2', 'getdents64', 'everything else: KILL_PROCESS', 'tgkill:', 'ALLOW if args[0] == 0x1092']) expect(r.stdout).toContain(want);
  });
});
