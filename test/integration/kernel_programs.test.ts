// Real programs exercising the kernel core: python3 with threads, signals, subprocess,
// select and multiprocessing gives the same output as natively; a program with 200
// threads and 200 processes leaves nothing behind on the host.

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENV, ROOT, TSVISOR, compileC, native, sandboxed } from './helpers.js';

const FIX = join(ROOT, 'test', 'integration', 'kernel_fixtures');

/** Processes (live or zombie) whose session is sid, from the host's /proc. */
function sessionMembers(sid: number): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[3]) === sid) out.push(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

describe('kernel: real programs', () => {
  it('python3 threads, signals, subprocess, select and multiprocessing match native', () => {
    const script = join(FIX, 'python_kernel.py');
    const n = native(['/usr/bin/python3', script]);
    expect(n.status).toBe(0);
    const s = sandboxed(['/usr/bin/python3', script]);
    expect(s.stdout).toBe(n.stdout);
    expect(s.status).toBe(0);
  });

  it('make -j2 builds a small C project with gcc inside the sandbox', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsvisor-make-'));
    writeFileSync(join(dir, 'a.c'), 'int add(int a, int b) { return a + b; }\n');
    writeFileSync(join(dir, 'b.c'), 'int mul(int a, int b) { return a * b; }\n');
    writeFileSync(join(dir, 'main.c'), '#include <stdio.h>\nint add(int, int); int mul(int, int);\nint main(void) { printf("%d %d\\n", add(2, 3), mul(4, 5)); return 0; }\n');
    writeFileSync(join(dir, 'Makefile'), 'prog: a.o b.o main.o\n\t$(CC) -o $@ $^\n%.o: %.c\n\t$(CC) -O1 -c -o $@ $<\n');
    // Built in a tmpfs of the sandbox (two compilers run at once there).
    const script = `cp ${dir}/*.c ${dir}/Makefile /mnt/ && cd /mnt && make -j2 >/dev/null && ./prog`;
    const s = sandboxed(['/bin/sh', '-c', script], { flags: ['--tmpfs', '/mnt'] });
    expect(s.stderr).toBe('');
    expect(s.stdout).toBe('5 20\n');
    expect(s.status).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['Makefile', 'a.c', 'b.c', 'main.c']);
  });

  it('200 threads and 200 processes leave no stub, zombie or fd behind', async () => {
    const bin = compileC('many', readFileSync(join(FIX, 'many.c'), 'utf8'), ['-static', '-pthread']);
    const n = native([bin]);
    expect(n.stdout).toBe('threads 200 processes 200 killed 200\n');
    // setsid puts the Sentry, its stubs and anything they leave in a session of their own.
    const child = spawn('setsid', [process.execPath, TSVISOR, 'do', '--', bin], { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const sid = child.pid ?? -1;
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, sessionMembers(sid).length)), 50);
    const status = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? -1)));
    clearInterval(sampler);
    expect(status).toBe(0);
    expect(stdout).toBe(n.stdout);
    // Stubs were really there while it ran (the check below is not vacuous).
    expect(peak).toBeGreaterThan(1);
    let left = sessionMembers(sid);
    for (let i = 0; i < 40 && left.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      left = sessionMembers(sid);
    }
    expect(left).toEqual([]);
  });
});
