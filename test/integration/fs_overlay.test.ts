// The writable root: an in-memory overlay over the read-only host tree. Changes are
// visible inside the sandbox and never reach the host; lower files can be modified,
// deleted and renamed; a full tmpfs answers ENOSPC and keeps what was written.

import { existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sandboxed } from './helpers.js';

const host = mkdtempSync(join(tmpdir(), 'tsvisor-overlay-'));
mkdirSync(join(host, 'dir/sub'), { recursive: true });
writeFileSync(join(host, 'keep.txt'), 'original\n');
writeFileSync(join(host, 'del.txt'), 'delete me\n');
writeFileSync(join(host, 'dir/a'), 'a\n');
writeFileSync(join(host, 'dir/sub/b'), 'b\n');

function sh(script: string, flags: string[] = []): { stdout: string; stderr: string; status: number } {
  return sandboxed(['/bin/sh', '-c', script], { flags });
}

describe('overlay root', () => {
  it('modifies, deletes and renames lower files without touching the host', () => {
    const r = sh([
      `cd ${host}`,
      'echo changed >> keep.txt', 'cat keep.txt',
      'rm del.txt', 'ls', 'test -e del.txt || echo gone',
      'mv dir moved', 'ls moved moved/sub', 'cat moved/sub/b',
      'test -e dir || echo dir-gone',
      'mkdir dir', 'ls -A dir | wc -l',
      'echo new > del.txt', 'cat del.txt',
      'chmod 600 keep.txt', 'stat -c %a keep.txt',
      'ln -s keep.txt lnk', 'readlink lnk',
      'touch -d @1000000000 moved/a', 'stat -c %Y moved/a',
    ].join('\n'));
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe([
      'original', 'changed',
      'del.txt', 'dir', 'keep.txt',
      'gone',
      'moved:', 'a', 'sub', '', 'moved/sub:', 'b',
      'b', 'dir-gone', '0', 'new', '600', 'keep.txt', '1000000000', '',
    ].join('\n').replace('del.txt\ndir\nkeep.txt', 'dir\nkeep.txt'));
    // Nothing reached the host.
    expect(readFileSync(join(host, 'keep.txt'), 'utf8')).toBe('original\n');
    expect(existsSync(join(host, 'del.txt'))).toBe(true);
    expect(existsSync(join(host, 'dir/sub/b'))).toBe(true);
    expect(existsSync(join(host, 'moved'))).toBe(false);
    expect(existsSync(join(host, 'lnk'))).toBe(false);
    expect(statSync(join(host, 'keep.txt')).mode & 0o777).toBe(0o644);
  });

  it('writes to system directories stay in memory', () => {
    const r = sh('echo x > /etc/tsvisor-test && cat /etc/tsvisor-test && rm /etc/hostname && test ! -e /etc/hostname && echo ok');
    expect(r.stdout).toBe('x\nok\n');
    expect(existsSync('/etc/tsvisor-test')).toBe(false);
    expect(existsSync('/etc/hostname')).toBe(true);
  });

  it('a deleted lower directory recreated is empty (opaque)', () => {
    const r = sh(`cd ${host} && rm -r dir && mkdir dir && ls -A dir | wc -l && touch dir/n && ls dir`);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('0\nn\n');
  });

  it('hard-linked lower files stay one file after copy-up', () => {
    const d = mkdtempSync(join(tmpdir(), 'tsvisor-overlay-links-'));
    mkdirSync(join(d, 'sub'));
    writeFileSync(join(d, 'a'), 'orig\n');
    linkSync(join(d, 'a'), join(d, 'sub/b'));
    const r = sh([`cd ${d}`, 'echo more >> a', 'cat sub/b', 'stat -c "%i %h" a sub/b | uniq | wc -l', 'stat -c %h a', 'rm a', 'cat sub/b', 'stat -c %h sub/b'].join('\n'));
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('orig\nmore\n1\n2\norig\nmore\n1\n');
    expect(readFileSync(join(d, 'a'), 'utf8')).toBe('orig\n');
  });

  it('statfs of the root reports an overlay', () => {
    const r = sh('stat -f -c %T /');
    expect(r.stdout.trim()).toBe('overlayfs');
  });
});

describe('bad input', () => {
  it('filling a tmpfs gives ENOSPC and loses nothing already written', () => {
    const r = sh([
      'echo precious > /tmp/keep',
      'dd if=/dev/zero of=/tmp/big bs=65536 count=100 2>&1 | grep -o "No space left on device"',
      'cat /tmp/keep',
      'ls -l /tmp/big | awk \'{print $5}\'',
      'echo more >> /tmp/keep || echo append-failed',
      'rm /tmp/big && echo again > /tmp/other && cat /tmp/other',
    ].join('\n'), ['--tmpfs', '/tmp,size=1048576']);
    expect(r.stdout).toContain('No space left on device');
    expect(r.stdout).toContain('precious\n1044480\n');
    expect(r.stdout).toContain('again\n');
  });

  it('paths past PATH_MAX, names past NAME_MAX and symlink loops get Linux errnos', () => {
    const long = 'n'.repeat(256);
    const deep = 'p/'.repeat(2100);
    const r = sh([
      'cd /tmp',
      `touch ${long} 2>&1 | sed 's/.*: //'`,
      `cat ${deep}x 2>&1 | sed 's/.*: //'`,
      'ln -s l2 l1; ln -s l1 l2; cat l1 2>&1 | sed "s/.*: //"',
    ].join('\n'), ['--tmpfs', '/tmp']);
    expect(r.stdout).toBe('File name too long\nFile name too long\nToo many levels of symbolic links\n');
  });
});
