// The conformance suite: every test/conformance/*.c is compiled once, run natively and
// under `tsvisor do`. Natively every line must be `ok ...`; sandboxed output must equal
// native output (the same checks pass, none fail only in the sandbox). Sandboxed, the program
// is pid 1 of the sandbox's pid namespace (an init: unkillable from inside), so natively it
// runs as pid 1 of a fresh pid namespace too, with its own /proc (util-linux unshare, as root).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, native, sandboxed } from './helpers.js';

const SRC_DIR = join(ROOT, 'test', 'conformance');
const sources = existsSync(SRC_DIR) ? readdirSync(SRC_DIR).filter((f) => f.endsWith('.c')).sort() : [];
const outDir = mkdtempSync(join(tmpdir(), 'tsvisor-conformance-'));

function compile(file: string): string {
  const out = join(outDir, file.replace(/\.c$/, ''));
  const r = spawnSync('gcc', ['-O1', '-static', '-pthread', '-o', out, join(SRC_DIR, file), '-lrt', '-lutil'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`gcc failed for ${file}: ${r.stderr}`);
  return out;
}

/** Lines that are verdicts; anything else a program prints is ignored for counting. */
function verdicts(stdout: string): string[] {
  return stdout.split('\n').filter((l) => l.startsWith('ok ') || l.startsWith('FAIL '));
}

let total = 0;
let passedSandboxed = 0;

describe('conformance', () => {
  it('has conformance programs', () => {
    expect(sources.length).toBeGreaterThan(0);
  });

  for (const file of sources) {
    it(file, () => {
      const bin = compile(file);
      const n = native(['unshare', '--pid', '--fork', '--kill-child', '--mount-proc', bin]);
      const nv = verdicts(n.stdout);
      expect(nv.filter((l) => !l.startsWith('ok ')), `native failures in ${file}`).toEqual([]);
      expect(n.status, `native exit status of ${file}: ${n.stderr}`).toBe(0);
      expect(nv.length).toBeGreaterThan(0);
      total += nv.length;
      const s = sandboxed([bin]);
      const sv = verdicts(s.stdout);
      passedSandboxed += sv.filter((l) => l.startsWith('ok ')).length;
      expect(sv, `sandboxed verdicts of ${file} (stderr: ${s.stderr.slice(-2000)})`).toEqual(nv);
      expect(s.status, `sandboxed exit status of ${file}`).toBe(0);
    });
  }

  afterAll(() => {
    console.log(`conformance: ${total} checks natively, ${passedSandboxed} passing sandboxed, in ${sources.length} files`);
  });
});
