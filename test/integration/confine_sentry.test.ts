// Invariant 6 for the Sentry: `tsvisor do` runs it as a child in namespaces of its own
// (mount, PID, IPC, UTS, network; --network=sandbox: the sandbox's namespace), and once
// booted it has no capabilities, no-new-privs and its seccomp filter. A forbidden syscall
// kills it and the CLI says so; `tsvisor debug seccomp sentry` shows the rules.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { E } from '../../sentry/abi/errno.js';
import { sentryConfineNative } from '../../sentry/confine/native_sentry.js';
import { BUSYBOX, ENV, TSVISOR } from './helpers.js';

function statusField(pid: number, name: string): string {
  const line = fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  return (line ?? '').slice(name.length + 1).trim();
}

/** The pids whose parent is `ppid`. */
function childrenOf(ppid: number): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      // Fields after the parenthesised command: state ppid ...
      const ppidField = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppidField === ppid) out.push(Number(d));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

/** Starts `tsvisor do FLAGS -- sleep 30` and waits until its Sentry child has confined itself. */
async function startSentry(flags: string[] = []): Promise<{ cli: ChildProcess; sentry: number }> {
  const cli = spawn(process.execPath, [TSVISOR, 'do', ...flags, '--', BUSYBOX, 'sleep', '30'], { env: ENV, stdio: ['ignore', 'ignore', 'inherit'] });
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    for (const pid of childrenOf(cli.pid ?? -1)) {
      try {
        if (statusField(pid, 'Seccomp') === '2') return { cli, sentry: pid };
      } catch {
        // Not there yet.
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  cli.kill('SIGKILL');
  throw new Error('the Sentry never confined itself');
}

async function stop(cli: ChildProcess): Promise<void> {
  const exited = new Promise((r) => cli.once('exit', r));
  // SIGTERM: the CLI still removes the sandbox network; its Sentry dies with it.
  cli.kill('SIGTERM');
  await exited;
}

describe('the confined Sentry', () => {
  it('has no-new-privs, a seccomp filter and no capabilities', async () => {
    const { cli, sentry } = await startSentry();
    try {
      expect(statusField(sentry, 'NoNewPrivs')).toBe('1');
      expect(statusField(sentry, 'Seccomp')).toBe('2');
      expect(BigInt('0x' + statusField(sentry, 'CapEff'))).toBe(0n);
      expect(BigInt('0x' + statusField(sentry, 'CapPrm'))).toBe(0n);
      expect(BigInt('0x' + statusField(sentry, 'CapBnd'))).toBe(0n);
      // It is pid 1 of its own PID namespace.
      expect(statusField(sentry, 'NSpid').split(/\s+/).at(-1)).toBe('1');
    } finally {
      await stop(cli);
    }
  });

  it('lives in mount, PID, IPC, UTS and network namespaces of its own', async () => {
    const { cli, sentry } = await startSentry();
    try {
      for (const ns of ['mnt', 'pid', 'ipc', 'uts', 'net']) {
        expect(fs.readlinkSync(`/proc/${sentry}/ns/${ns}`), ns).not.toBe(fs.readlinkSync(`/proc/self/ns/${ns}`));
      }
      // Its root is an empty tmpfs: no host mount is left in its namespace.
      expect(fs.readdirSync(`/proc/${sentry}/root`)).toEqual([]);
      const mounts = fs.readFileSync(`/proc/${sentry}/mountinfo`, 'utf8').trim().split('\n');
      expect(mounts.map((l) => l.split(' ')[4])).toEqual(['/']);
      // The CLI that started it stays on the host's side.
      expect(fs.readlinkSync(`/proc/${cli.pid}/ns/mnt`)).toBe(fs.readlinkSync('/proc/self/ns/mnt'));
    } finally {
      await stop(cli);
    }
  });

  it('with --network=sandbox, is in the namespace that holds the sandbox interface', async () => {
    const { cli, sentry } = await startSentry(['--network=sandbox']);
    try {
      const nsIno = fs.statSync(`/run/netns/tsvisor-${cli.pid}`).ino;
      expect(fs.readlinkSync(`/proc/${sentry}/ns/net`)).toBe(`net:[${nsIno}]`);
      expect(fs.readlinkSync(`/proc/${sentry}/ns/mnt`)).not.toBe(fs.readlinkSync('/proc/self/ns/mnt'));
    } finally {
      await stop(cli);
    }
  });

  it('still forks, execs and pipes programs once confined', () => {
    const r = spawnSync(process.execPath, [TSVISOR, 'do', '--', BUSYBOX, 'sh', '-c', 'echo piped | cat; (exit 3); echo $?; exit 7'], { env: ENV, encoding: 'utf8' });
    expect(r.stdout).toBe('piped\n3\n');
    expect(r.status).toBe(7);
  });
});

describe('an unprivileged user', () => {
  it('gets a Sentry in a user namespace of its own as well', () => {
    // setpriv (util-linux) drops to nobody; the Sentry maps nobody to root in a new user namespace.
    const r = spawnSync('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', process.execPath, TSVISOR, 'do', '--', BUSYBOX, 'sh', '-c', 'echo piped | cat'],
      { env: ENV, encoding: 'utf8', killSignal: 'SIGKILL', timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('piped\n');
    expect(r.status).toBe(0);
  });
});

describe('sentrySpawn', () => {
  it('reports a failure before exec as -errno, not as an exit status', () => {
    const n = sentryConfineNative();
    expect(n.sentrySpawn('/nonexistent/node', ['/nonexistent/node'], 3, '', 1)).toBe(-E.ENOENT);
    expect(n.sentrySpawn('/bin/true', ['/bin/true'], 3, '/nonexistent/netns', 0)).toBe(-E.ENOENT);
    // A namespace to join and a new one at once make no sense.
    expect(n.sentrySpawn('/bin/true', ['/bin/true'], 3, '/proc/self/ns/net', 1)).toBe(-E.EINVAL);
    expect(n.sentrySpawn('/bin/true', [], 3, '', 1)).toBe(-E.EINVAL);
    // Only the spawned Sentry (pid 1 of its namespaces) may swap its root.
    expect(n.sentryPivotEmpty()).toBe(-E.EPERM);
  });
});

describe('a forbidden syscall in the Sentry after start-up', () => {
  it('kills it with SIGSYS and the CLI reports it', () => {
    // The hidden self-test flag makes the confined Sentry try to spawn /bin/true.
    const r = spawnSync(process.execPath, [TSVISOR, 'do', '--selftest-forbidden-syscall', '--', BUSYBOX, 'sleep', '10'], { env: ENV, encoding: 'utf8', killSignal: 'SIGKILL', timeout: 30_000 });
    expect(r.status).toBe(128 + 31);
    expect(r.stderr).toContain('the Sentry was killed by SIGSYS');
  });
});

describe('tsvisor debug seccomp sentry', () => {
  it('prints the filter as rules a user can audit', () => {
    const r = spawnSync(process.execPath, [TSVISOR, 'debug', 'seccomp', 'sentry'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/KILL_PROCESS: .*\bexecve\b/);
    expect(r.stdout).toMatch(/ERRNO\(13\): .*\bopenat\b/);
    expect(r.stdout).toContain('everything else: ERRNO(1)');
    expect(r.stdout).toContain('ptrace:');
  });
});
