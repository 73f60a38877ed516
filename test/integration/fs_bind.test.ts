// Bind mounts served by the Gofer (`do --volume HOST:CTR[:ro]`): a writable one reaches the
// host directory and a second sandbox sharing it, while the root's changes stay in the
// overlay; setuid/setgid never reach the host; a read-only one refuses with EROFS.

import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileC, native, sandboxed } from './helpers.js';

function sh(script: string, flags: string[]): { stdout: string; stderr: string; status: number } {
  return sandboxed(['/bin/sh', '-c', script], { flags });
}

describe('writable bind mounts', () => {
  it('writes reach the host and a second sandbox; the root stays in the overlay', () => {
    const host = mkdtempSync(join(tmpdir(), 'tsvisor-bind-'));
    writeFileSync(join(host, 'old.txt'), 'old\n');
    const rootProbe = join(tmpdir(), `tsvisor-bind-root-${process.pid}`);
    const r = sh([
      'echo hello > /data/a.txt', 'mkdir -p /data/d/e', 'echo deep > /data/d/e/f',
      'mv /data/a.txt /data/b.txt', 'ln /data/b.txt /data/hard', 'ln -s b.txt /data/sym',
      'echo more >> /data/old.txt', 'rm /data/d/e/f', 'rmdir /data/d/e',
      'touch /data/suid && chmod 6755 /data/suid', 'stat -c %a /data/suid',
      `echo root > ${rootProbe}`, `cat ${rootProbe}`,
    ].join('\n'), ['--volume', `${host}:/data`]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('755\nroot\n');
    expect(r.status).toBe(0);
    expect(readFileSync(join(host, 'b.txt'), 'utf8')).toBe('hello\n');
    expect(statSync(join(host, 'hard')).ino).toBe(statSync(join(host, 'b.txt')).ino);
    expect(readlinkSync(join(host, 'sym'))).toBe('b.txt');
    expect(readFileSync(join(host, 'old.txt'), 'utf8')).toBe('old\nmore\n');
    expect(existsSync(join(host, 'a.txt'))).toBe(false);
    expect(existsSync(join(host, 'd/e'))).toBe(false);
    expect(lstatSync(join(host, 'd')).isDirectory()).toBe(true);
    expect(statSync(join(host, 'suid')).mode & 0o7777).toBe(0o755);
    expect(existsSync(rootProbe)).toBe(false);

    // Another sandbox, mounting the same directory elsewhere, sees all of it.
    const r2 = sh('cat /other/b.txt /other/old.txt; readlink /other/sym; ls /other', ['--volume', `${host}:/other`]);
    expect(r2.stderr).toBe('');
    expect(r2.stdout).toBe('hello\nold\nmore\nb.txt\nb.txt\nd\nhard\nold.txt\nsuid\nsym\n');
  });

  it('MAP_SHARED of a bind-mounted file: shared by processes and write(), written back on msync, munmap and exit', () => {
    const src = readFileSync(join(import.meta.dirname, 'fs_fixtures', 'mmap_shared.c'), 'utf8');
    const prog = compileC('mmap_shared', src);
    const nativeDir = mkdtempSync(join(tmpdir(), 'tsvisor-mmap-native-'));
    const n = native([prog, nativeDir]);
    expect(n.stdout).not.toContain('FAIL');
    const host = mkdtempSync(join(tmpdir(), 'tsvisor-mmap-bind-'));
    const r = sandboxed([prog, '/data'], { flags: ['--volume', `${host}:/data`] });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(n.stdout);
    // The host file holds every byte stored through the mappings, as natively.
    expect(readFileSync(join(host, 'shared.bin')).equals(readFileSync(join(nativeDir, 'shared.bin')))).toBe(true);
  });

  it('sqlite3 in WAL mode (shared-mapped -shm file, fcntl locks) on a writable bind; the host reads the result', () => {
    const host = mkdtempSync(join(tmpdir(), 'tsvisor-bind-sqlite-'));
    const sql = 'PRAGMA journal_mode=WAL; CREATE TABLE t(a); WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<5000) ' +
      'INSERT INTO t SELECT x FROM c; SELECT count(*), sum(a) FROM t;';
    const r = sandboxed(['/usr/bin/sqlite3', '/db/t.db', sql], { flags: ['--volume', `${host}:/db`] });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('wal\n5000|12502500\n');
    const n = native(['/usr/bin/sqlite3', join(host, 't.db'), 'SELECT count(*), sum(a) FROM t; PRAGMA integrity_check;']);
    expect(n.stdout).toBe('5000|12502500\nok\n');
  });

  it('named pipes on a bind (made inside or found on the host) are pipes of the sandbox, O_RDWR included', () => {
    const host = mkdtempSync(join(tmpdir(), 'tsvisor-bind-fifo-'));
    spawnSync('mkfifo', [join(host, 'hostfifo')]);
    const r = sh([
      'mkfifo /data/p', 'stat -c %F /data/p',
      '(echo through-pipe > /data/p &)', 'cat /data/p',
      '(echo host-made > /data/hostfifo &)', 'cat /data/hostfifo',
      'exec 3<>/data/p', 'echo rw >&3', 'read x <&3', 'echo $x',
    ].join('\n'), ['--volume', `${host}:/data`]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('fifo\nthrough-pipe\nhost-made\nrw\n');
    expect(lstatSync(join(host, 'p')).isFIFO()).toBe(true);
  });

  it('/proc/self/mountinfo shows bind roots, ro/rw and the kernel filesystems rw with their flags', () => {
    const host = mkdtempSync(join(tmpdir(), 'tsvisor-bind-info-'));
    mkdirSync(join(host, 'sub dir'));
    const r = sh([
      'mkdir -p /mnt/a', "mount --bind '/data/sub dir' /mnt/a", 'mount --bind /mnt/a /srv',
      "awk '{print $4, $5, $6}' /proc/self/mountinfo | sort -k2",
    ].join('\n'), ['--volume', `${host}:/data`, '--volume', `${host}:/ro:ro`]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe([
      '/ / rw,relatime', '/ /data rw,relatime', '/ /dev rw,nosuid,relatime', '/ /dev/pts rw,nosuid,noexec,relatime',
      '/ /dev/shm rw,nosuid,nodev,noexec,relatime', '/sub\\040dir /mnt/a rw,relatime', '/ /proc rw,nosuid,nodev,noexec,relatime',
      '/ /ro ro,relatime', '/sub\\040dir /srv rw,relatime', '/ /sys rw,nosuid,nodev,noexec,relatime', '',
    ].join('\n'));
  });

  it('a :ro bind reads but refuses every change with EROFS', () => {
    const host = mkdtempSync(join(tmpdir(), 'tsvisor-bind-ro-'));
    writeFileSync(join(host, 'f'), 'data\n');
    const r = sh([
      'cat /ro/f',
      'echo x > /ro/f 2>/dev/null || echo write-refused',
      'mkdir /ro/d 2>/dev/null || echo mkdir-refused',
      'rm /ro/f 2>/dev/null || echo rm-refused',
      'touch /ro/g 2>&1 | grep -c "Read-only file system"',
    ].join('\n'), ['--volume', `${host}:/ro:ro`]);
    expect(r.stdout).toBe('data\nwrite-refused\nmkdir-refused\nrm-refused\n1\n');
    expect(readFileSync(join(host, 'f'), 'utf8')).toBe('data\n');
    expect(existsSync(join(host, 'g'))).toBe(false);
  });
});
