// SIGBUS past the end of a mapped file on a bind mount served by the Gofer (its page
// cache, sized by the host file; ftruncate through 9P): the file checks of
// test/conformance/mm_sigbus.c in a --volume directory, with the same verdicts as natively.

import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, native, sandboxed } from './helpers.js';

describe('SIGBUS on Gofer files', () => {
  it('a shrunk bind-mounted file gives SIGBUS past its end, as natively', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsvisor-sigbus-'));
    const prog = join(dir, 'mm_sigbus');
    const cc = spawnSync('gcc', ['-O1', '-static', '-o', prog, join(ROOT, 'test', 'conformance', 'mm_sigbus.c')], { encoding: 'utf8' });
    expect(cc.stderr).toBe('');
    const nativeDir = mkdtempSync(join(tmpdir(), 'tsvisor-sigbus-native-'));
    const n = native([prog, nativeDir]);
    expect(n.stdout).not.toContain('FAIL');
    expect(n.stdout).toContain('ok tmp-shrunk-tail-sigbus');
    const host = mkdtempSync(join(tmpdir(), 'tsvisor-sigbus-bind-'));
    const r = sandboxed([prog, '/data'], { flags: ['--volume', `${host}:/data`] });
    expect(r.stdout).toBe(n.stdout);
    expect(r.status).toBe(0);
  });
});
