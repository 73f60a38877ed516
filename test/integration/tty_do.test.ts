// `tsvisor do -t` with piped input: the program runs on a pty of its own (a terminal on
// stdin/stdout, a controlling tty, NL -> CRNL on output), and the end of the piped input
// reaches it as the terminal's EOF character.

import { describe, expect, it } from 'vitest';
import { sandboxed } from './helpers.js';

describe('do -t', () => {
  it('gives the program a pty and ends its input with EOF', () => {
    const r = sandboxed(['/bin/sh', '-c', 'tty; test -t 0 && test -t 1 && echo both-terminals; ps_pgrp=$(cat /dev/tty); echo "read: $ps_pgrp"'], {
      input: 'typed line\n',
      flags: ['-t'],
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('/dev/pts/0\r\n');
    expect(r.stdout).toContain('both-terminals\r\n');
    // The typed line is echoed by the line discipline, then read back through /dev/tty.
    expect(r.stdout).toContain('typed line\r\n');
    expect(r.stdout).toContain('read: typed line\r\n');
  });

  it('without -t and with piped stdin there is no terminal', () => {
    const r = sandboxed(['/bin/sh', '-c', 'test -t 0 || echo no-terminal; cat /dev/tty 2>/dev/null || echo no-ctty'], { input: '' });
    expect(r.stdout).toBe('no-terminal\nno-ctty\n');
  });
});
