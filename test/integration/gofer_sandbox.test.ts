// `tsvisor do` with the Gofer serving the root: escape attempts from inside the sandbox
// stay inside --rootfs, the Sentry holds no host path (its fds and mappings), and a Gofer
// that dies mid-run turns into EIO for the app instead of a hang.

import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX, ENV, ROOT, sandboxed, TSVISOR } from './helpers.js';

const HOST_HOSTNAME = fs.readFileSync('/etc/hostname', 'utf8').trim();

/** A minimal root: static busybox, an /etc/hostname of its own, symlinks aimed at the host. */
function makeRootfs(): string {
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'gofer-rootfs-'));
  // A host file next to the root: inside, its host path must not exist.
  fs.writeFileSync(path.join(parent, 'secret.txt'), 'host secret\n');
  const r = path.join(parent, 'root');
  fs.mkdirSync(r);
  fs.mkdirSync(path.join(r, 'bin'));
  fs.mkdirSync(path.join(r, 'etc'));
  fs.mkdirSync(path.join(r, 'sub', 'deeper'), { recursive: true });
  fs.copyFileSync(BUSYBOX, path.join(r, 'bin', 'busybox'));
  fs.chmodSync(path.join(r, 'bin', 'busybox'), 0o755);
  fs.writeFileSync(path.join(r, 'etc', 'hostname'), 'inside-hostname\n');
  fs.symlinkSync('/etc/hostname', path.join(r, 'abs-link'));
  fs.symlinkSync('../../../../../../../../etc/hostname', path.join(r, 'sub', 'deeper', 'rel-link'));
  fs.symlinkSync(path.join(parent, 'secret.txt'), path.join(r, 'host-path-link'));
  return r;
}

/** Every process id in the subtree under pid (children first found through /proc). */
function descendants(pid: number): number[] {
  const out: number[] = [];
  const walk = (p: number): void => {
    let tasks: string[] = [];
    try {
      tasks = fs.readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const t of tasks) {
      let kids = '';
      try {
        kids = fs.readFileSync(`/proc/${p}/task/${t}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const k of kids.trim().split(/\s+/).filter(Boolean).map(Number)) {
        out.push(k);
        walk(k);
      }
    }
  };
  walk(pid);
  return out;
}

function isGofer(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('gofer');
  } catch {
    return false;
  }
}

/** Starts `tsvisor do` in the background; resolves once `marker` appears on its stdout. */
function startSandbox(rootfs: string, argv: string[], marker: string, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [TSVISOR, 'do', '--rootfs', rootfs, '--', ...argv], { env: { ...ENV, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const ready = new Promise<void>((res, rej) => {
    const t = setTimeout(() => rej(new Error(`no "${marker}" within 20 s; stdout ${stdout} stderr ${stderr}`)), 20_000);
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
      if (stdout.includes(marker)) {
        clearTimeout(t);
        res();
      }
    });
  });
  const exited = new Promise<number>((res) => child.on('close', (code, sig) => res(code ?? 128 + (sig === 'SIGKILL' ? 9 : 0))));
  return { child, ready, exited, out: () => stdout, err: () => stderr };
}

describe('escape attempts from inside the sandbox stay in the root', () => {
  let rootfs: string;
  beforeAll(() => {
    rootfs = makeRootfs();
  });
  afterAll(() => fs.rmSync(path.dirname(rootfs), { recursive: true, force: true }));

  const run = (script: string) => sandboxed(['/bin/busybox', 'sh', '-c', script], { flags: ['--rootfs', rootfs] });

  it('cd ../../.. ends at the sandbox root', () => {
    const r = run('cd ../../../../..; pwd; /bin/busybox ls; cd /sub/deeper/../../../..; pwd; /bin/busybox cat ../../../etc/hostname');
    expect(r.stdout).toBe(`/\nabs-link\nbin\netc\nhost-path-link\nsub\n/\ninside-hostname\n`);
    expect(r.status).toBe(0);
  });

  it('symlinks to the host /etc/hostname resolve inside the root', () => {
    const r = run('/bin/busybox cat /abs-link /sub/deeper/rel-link; /bin/busybox cat /host-path-link; echo rc=$?');
    expect(r.stdout).not.toContain(HOST_HOSTNAME);
    expect(r.stdout).toBe('inside-hostname\ninside-hostname\nrc=1\n');
    expect(r.stderr).not.toContain('host secret');
  });

  it('host paths outside the root do not exist inside', () => {
    const r = run(`/bin/busybox ls ${path.dirname(rootfs)} ${ROOT} /tmp 2>/dev/null; echo rc=$?`);
    expect(r.stdout).toBe('rc=1\n');
  });
});

describe('the Sentry holds no host path after boot', () => {
  it('its fds are sockets, pipes, anonymous inodes, the memory file, and fds from the Gofer', async () => {
    const rootfs = makeRootfs();
    const s = startSandbox(rootfs, ['/bin/busybox', 'sh', '-c', 'read x < /etc/hostname; echo ready; read y; echo bye'], 'ready');
    try {
      await s.ready;
      // The CLI runs the Sentry as its child, in namespaces of its own (invariant 6).
      const pid = descendants(s.child.pid!).find((p) => fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes('--sentry-child'));
      if (pid === undefined) throw new Error('no Sentry process under the CLI');
      const sentryMounts = new Set(fs.readFileSync(`/proc/${pid}/mountinfo`, 'utf8').trim().split('\n').map((l) => l.split(' ')[0]));
      const fds = fs.readdirSync(`/proc/${pid}/fd`);
      expect(fds.length).toBeGreaterThan(3);
      let fromGofer = 0;
      for (const fd of fds) {
        let link: string;
        try {
          link = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
        } catch {
          continue; // closed meanwhile
        }
        if (/^(socket|pipe):\[\d+\]$/.test(link) || link.startsWith('anon_inode:') || link.startsWith('/memfd:')) continue;
        const info = fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
        const flags = parseInt(/flags:\s*([0-7]+)/.exec(info)?.[1] ?? '-1', 8);
        // libuv's reserve fd for running out of fds (uv__stream_init opens it with the first stream).
        if (link === '/dev/null' && (flags & 3) === 0) continue;
        // Anything else must come from the Gofer: a mount the Sentry's namespace does not have,
        // opened read-only.
        const mnt = /mnt_id:\s*(\d+)/.exec(info)?.[1];
        expect(sentryMounts.has(mnt ?? ''), `fd ${fd} -> ${link} is on the Sentry's own mount ${mnt}`).toBe(false);
        expect(flags & 3, `fd ${fd} -> ${link} flags`).toBe(0);
        fromGofer++;
      }
      expect(fromGofer).toBeGreaterThan(0);
      // Mappings: Node and its libraries, the addon and the memory file; no file of the sandbox.
      const addon = path.join(ROOT, 'build', 'Release', 'tsvisor_native.node');
      for (const line of fs.readFileSync(`/proc/${pid}/maps`, 'utf8').trim().split('\n')) {
        const file = line.split(/\s+/).slice(5).join(' ');
        if (!file.startsWith('/')) continue;
        const ok = file === fs.realpathSync(process.execPath) || file === addon || file.startsWith('/memfd:') ||
          /^\/(usr\/)?lib(64|32|x32)?\/.*\.so[.\d]*$/.test(file);
        expect(ok, `mapping of ${file}`).toBe(true);
      }
      s.child.stdin.end('go\n');
      expect(await s.exited).toBe(0);
    } finally {
      s.child.kill('SIGKILL');
      fs.rmSync(path.dirname(rootfs), { recursive: true, force: true });
    }
  });
});

describe('a Gofer that dies', () => {
  it('of a forbidden syscall turns into EIO for the app, not a hang', async () => {
    const rootfs = makeRootfs();
    // The selftest Gofer calls spawnSync on SIGUSR2: its seccomp filter must kill it.
    const s = startSandbox(rootfs, ['/bin/busybox', 'sh', '-c', 'read a < /etc/hostname; echo first=$a; read x; read b < /etc/hostname; echo rc=$?'], 'first=',
      { TSVISOR_GOFER_SELFTEST: 'forbidden-syscall' });
    try {
      await s.ready;
      const gofers = descendants(s.child.pid!).filter(isGofer);
      expect(gofers.length).toBe(1);
      // Armed (it handles SIGUSR2 by breaking its filter; gofer_confined shows that death is SIGSYS).
      expect(fs.readFileSync(`/proc/${gofers[0]}/cmdline`, 'utf8').split('\0')).toContain('--selftest-forbidden-syscall');
      process.kill(gofers[0]!, 'SIGUSR2');
      // The Sentry notices the closed socket; once the Gofer is gone, let the app go on.
      const until = Date.now() + 10_000;
      while (fs.existsSync(`/proc/${gofers[0]}`) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      expect(fs.existsSync(`/proc/${gofers[0]}`)).toBe(false);
      s.child.stdin.end('go\n');
      expect(await s.exited).toBe(0);
      expect(s.out()).toBe('first=inside-hostname\nrc=1\n');
      expect(s.err()).toMatch(/Input\/output error/);
    } finally {
      s.child.kill('SIGKILL');
      fs.rmSync(path.dirname(rootfs), { recursive: true, force: true });
    }
  });
});

it('the CLI still runs programs from the host root', () => {
  const r = spawnSync(process.execPath, [TSVISOR, 'do', '--', '/bin/cat', '/etc/hostname'], { env: ENV, encoding: 'utf8' });
  expect(r.stdout.trim()).toBe(HOST_HOSTNAME);
});

describe.skipIf(process.getuid?.() !== 0 || !fs.existsSync('/usr/bin/setpriv'))('run by an unprivileged user', () => {
  it('the Gofer serves the root from a user namespace, with only that user\'s rights', () => {
    const r = spawnSync('/usr/bin/setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, TSVISOR, 'do', '--',
      '/bin/sh', '-c', 'cat /etc/hostname; ls /root >/dev/null 2>&1 || echo no-root-dir'], { env: ENV, encoding: 'utf8' });
    expect(r.stdout).toBe(`${HOST_HOSTNAME}\nno-root-dir\n`);
    expect(r.status).toBe(0);
  });
});
