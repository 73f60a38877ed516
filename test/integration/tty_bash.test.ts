// An interactive bash under `tsvisor do -t`, driven through tmux: a pipeline, a background
// job, `jobs`, `fg`, ^C of a sleep, ^Z and `bg`, and a clean exit, all through the
// Sentry's pty and line discipline.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { TSVISOR } from './helpers.js';

const SOCKET = `tsvisor-tty-${process.pid}`;
const SESSION = 'bash';
const hasTmux = spawnSync('tmux', ['-V']).status === 0;

function tmux(...args: string[]): string {
  const r = spawnSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tmux ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

function screen(): string {
  return tmux('capture-pane', '-t', SESSION, '-p', '-S', '-200');
}

/** Polls the screen until pattern shows up (after `from` characters) or the time runs out. */
async function waitFor(pattern: RegExp, from = 0, timeoutMs = 20_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = screen();
    if (pattern.test(s.slice(from))) return s;
    if (Date.now() > end) throw new Error(`timed out waiting for ${pattern}; screen:\n${s}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Types a line (or keys) and waits for pattern to appear after what the screen showed before. */
async function type(keys: string[], pattern: RegExp): Promise<string> {
  const before = screen().trimEnd().length;
  tmux('send-keys', '-t', SESSION, ...keys);
  return waitFor(pattern, before);
}

/**
 * Sends a signal key until pattern appears: a key typed before the job has become the
 * terminal's foreground group goes to the shell (which ignores it), as on Linux.
 */
async function signalKey(key: string, pattern: RegExp): Promise<string> {
  const before = screen().trimEnd().length;
  for (let i = 0; ; i++) {
    tmux('send-keys', '-t', SESSION, key);
    try {
      return await waitFor(pattern, before, 2_000);
    } catch (e) {
      if (i === 5) throw e;
    }
  }
}

afterAll(() => {
  if (hasTmux) spawnSync('tmux', ['-L', SOCKET, 'kill-server']);
});

describe.skipIf(!hasTmux)('interactive bash on a pty (do -t)', () => {
  it('runs a pipeline, job control and exits cleanly', async () => {
    expect(existsSync('/bin/bash')).toBe(true);
    const cmd = `env -i PATH=/usr/bin:/bin TERM=dumb HOME=/root PS1='tsv$ ' ${process.execPath} ${TSVISOR} do -t -- /bin/bash --norc --noprofile -i; echo "EXITED $?"; sleep 60`;
    tmux('new-session', '-d', '-s', SESSION, '-x', '120', '-y', '40', cmd);
    await waitFor(/^tsv\$ ?$/m);
    await type(['echo hello world | tr a-z A-Z', 'Enter'], /^HELLO WORLD$/m);
    await type(['stty size; tty', 'Enter'], /^40 120\n\/dev\/pts\/0$/m);
    // A resize of the user's terminal reaches the pty (TIOCSWINSZ, SIGWINCH).
    tmux('resize-window', '-t', SESSION, '-x', '90', '-y', '30');
    await type(['stty size', 'Enter'], /^30 90$/m);
    await type(['sleep 100 &', 'Enter'], /^\[1\] \d+$/m);
    await type(['jobs', 'Enter'], /^\[1\]\+\s+Running\s+sleep 100 &$/m);
    await type(['fg', 'Enter'], /^sleep 100$/m);
    await signalKey('C-c', /^\^C\ntsv\$ ?$/m);
    await type(['echo status=$?', 'Enter'], /^status=130$/m);
    await type(['sleep 50', 'Enter'], /sleep 50\n/);
    await signalKey('C-z', /^\[1\]\+\s+Stopped\s+sleep 50$/m);
    await type(['bg', 'Enter'], /^\[1\]\+ sleep 50 &$/m);
    await type(['kill %1; wait %1; echo waited=$?', 'Enter'], /^waited=143$/m);
    await type(['exit', 'Enter'], /^EXITED 0$/m);
  }, 60_000);
});
