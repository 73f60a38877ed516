// What proves the program ran in the sandbox: its own pid namespace and the Sentry's uname,
// and Linux's answers to bad input without the Sentry falling over.

import { writeFileSync, mkdtempSync, chmodSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUSYBOX, compileC, native, sandboxed } from './helpers.js';

describe('the program runs inside the sandbox', () => {
  it('sees itself as pid 1 and the Sentry uname, not the host', () => {
    const r = sandboxed(['/usr/bin/python3', '-c', 'import os, sys; print(sys.version_info[0], os.getpid())']);
    expect(r.stdout).toBe('3 1\n');
    const u = sandboxed([BUSYBOX, 'uname', '-srn']);
    expect(u.stdout).toBe('Linux tsvisor 4.4.0\n');
    expect(native([BUSYBOX, 'uname', '-r']).stdout).not.toBe('4.4.0\n');
  });

  it('gives children their own pids and a parent pid from the sandbox', () => {
    // The trailing echo keeps ash from exec'ing the last command in place.
    const r = sandboxed([BUSYBOX, 'sh', '-c', 'echo $$; busybox sh -c "echo \\$PPID \\$\\$"; echo done']);
    expect(r.stdout).toBe('1\n1 2\ndone\n');
  });

  it('runs a static non-PIE, a static-PIE and a dynamic executable', () => {
    const src = '#include <stdio.h>\n#include <unistd.h>\nint main(void){ printf("pid %d\\n", getpid()); return 4; }\n';
    for (const flags of [['-static', '-no-pie'], ['-static-pie'], []]) {
      const exe = compileC('ident', src, flags);
      const r = sandboxed([exe]);
      expect({ out: r.stdout, status: r.status }).toEqual({ out: 'pid 1\n', status: 4 });
    }
  });

  it('runs #! scripts through their interpreter', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsvisor-script-'));
    const script = join(dir, 'hello.sh');
    writeFileSync(script, `#!${BUSYBOX} sh\necho "script $0 $1"\nexit 9\n`);
    chmodSync(script, 0o755);
    const r = sandboxed([script, 'arg']);
    expect({ out: r.stdout, status: r.status }).toEqual({ out: `script ${script} arg\n`, status: 9 });
  });

  it('--strace prints decoded syscalls with results', () => {
    const r = sandboxed([BUSYBOX, 'cat', '/nonexistent'], { flags: ['--strace'] });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/open(at)?\(.*"\/nonexistent".*ENOENT/);
    expect(r.stderr).toMatch(/exit_group\(1\)/);
  });

  it('reports death by signal as 128+N', () => {
    const exe = compileC('segv', 'int main(void){ volatile int *p = (int*)16; return *p; }\n');
    expect(native([exe]).status).toBe(139);
    expect(sandboxed([exe]).status).toBe(139);
  });
});

describe('bad input gets Linux answers and the Sentry survives', () => {
  it('a nonexistent command', () => {
    const r = sandboxed(['/no/such/program']);
    expect(r.status).toBe(127);
    expect(r.stderr).toMatch(/no\/such\/program/);
  });

  it('a non-ELF file, a foreign-architecture ELF and a truncated ELF are ENOEXEC', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsvisor-bad-'));
    const text = join(dir, 'text');
    writeFileSync(text, 'just some text, no #! line\n');
    const arm = join(dir, 'arm');
    const hdr = Buffer.alloc(64);
    hdr.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
    hdr.writeUInt16LE(2, 16); // ET_EXEC
    hdr.writeUInt16LE(183, 18); // EM_AARCH64
    writeFileSync(arm, hdr);
    const trunc = join(dir, 'trunc');
    writeFileSync(trunc, readFileSync('/bin/ls').subarray(0, 300));
    for (const f of [text, arm, trunc]) chmodSync(f, 0o755);
    // Inside the sandbox, a shell sees execve fail with ENOEXEC exactly as natively. The shell
    // then reads the file as a script (whose bytes may redirect into odd names): run it in dir.
    for (const f of [arm, trunc]) {
      const want = native([BUSYBOX, 'sh', '-c', `cd ${dir} && exec ${f}; echo unreachable`]);
      const got = sandboxed([BUSYBOX, 'sh', '-c', `cd ${dir} && exec ${f}; echo unreachable`]);
      expect(got.status).toBe(want.status);
    }
    const r = sandboxed([arm]);
    expect(r.status).toBe(126);
    expect(r.stderr).toMatch(/ENOEXEC|Exec format error/);
  });

  it('wild pointers to read, write and open are EFAULT', () => {
    const exe = compileC('wild', `
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <string.h>
#include <sys/syscall.h>
int main(void) {
  long r;
  r = syscall(SYS_write, 1, (void*)0x10, 10); printf("write %ld %s\\n", r, r < 0 ? strerror(errno) : "");
  r = syscall(SYS_read, 0, (void*)0xdead0000000, 10); printf("read %ld %s\\n", r, r < 0 ? strerror(errno) : "");
  r = syscall(SYS_open, (void*)0xffffffffffff0000, O_RDONLY); printf("open %ld %s\\n", r, r < 0 ? strerror(errno) : "");
  r = syscall(SYS_openat, AT_FDCWD, (void*)1, O_RDONLY); printf("openat %ld %s\\n", r, r < 0 ? strerror(errno) : "");
  r = syscall(SYS_write, 1, "still alive\\n", 12);
  return 0;
}
`);
    const want = native([exe]);
    const got = sandboxed([exe], { input: '' });
    expect(got.stdout).toBe(want.stdout);
    expect(got.stdout).toContain('write -1 Bad address');
    expect(got.status).toBe(0);
  });
});
