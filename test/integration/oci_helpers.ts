// Bundles and a runc-style driver for the OCI command tests: every call runs the real CLI.

import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, openSync, rmdirSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUSYBOX, ENV, TSVISOR } from './helpers.js';

export interface Cli {
  stdout: string;
  stderr: string;
  status: number;
}

/** A state root plus helpers to drive `tsvisor --root ROOT ...`. */
export class OciDriver {
  readonly root: string;
  readonly work: string;

  constructor() {
    this.work = mkdtempSync(join(tmpdir(), 'tsvisor-oci-'));
    this.root = join(this.work, 'state');
  }

  private seq = 0;

  /**
   * Runs the CLI to completion. Output goes through files, not pipes: a container's
   * init inherits create's stdio, so a pipe would stay open as long as the container.
   */
  run(args: string[], opts: { input?: string; cwd?: string; timeoutMs?: number; extraFds?: number[] } = {}): Cli {
    const [out, err, files] = this.outputFiles();
    try {
      const r = spawnSync(process.execPath, [TSVISOR, '--root', this.root, ...args], {
        input: opts.input ?? '', env: ENV, cwd: opts.cwd, stdio: ['pipe', out, err, ...(opts.extraFds ?? [])], killSignal: 'SIGKILL', timeout: opts.timeoutMs ?? 60_000,
      });
      if (r.error) throw r.error;
      return { stdout: readFileSync(files[0], 'utf8'), stderr: readFileSync(files[1], 'utf8'), status: r.status ?? 128 };
    } finally {
      closeSync(out);
      closeSync(err);
    }
  }

  /** Runs the CLI without waiting (for concurrent commands). */
  start(args: string[]): Promise<Cli> {
    const [out, err, files] = this.outputFiles();
    return new Promise((resolve, reject) => {
      const c = spawn(process.execPath, [TSVISOR, '--root', this.root, ...args], { env: ENV, stdio: ['ignore', out, err] });
      closeSync(out);
      closeSync(err);
      c.on('error', reject);
      c.on('exit', (code) => resolve({ stdout: readFileSync(files[0], 'utf8'), stderr: readFileSync(files[1], 'utf8'), status: code ?? 128 }));
    });
  }

  private outputFiles(): [number, number, [string, string]] {
    const n = this.seq++;
    const files: [string, string] = [join(this.work, `out.${n}`), join(this.work, `err.${n}`)];
    return [openSync(files[0], 'w+'), openSync(files[1], 'w+'), files];
  }

  state(id: string): { status: string; pid: number; id: string; bundle: string } {
    const r = this.run(['state', id]);
    if (r.status !== 0) throw new Error(`state ${id}: ${r.stderr}`);
    return JSON.parse(r.stdout) as { status: string; pid: number; id: string; bundle: string };
  }

  /**
   * Ends everything this driver started, even if the CLI cannot (e.g. a test failed while
   * the native addon was being rebuilt): delete --force each container, then SIGKILL any
   * process still naming this root and remove the cgroups it had joined.
   */
  cleanup(): void {
    for (const id of this.leftovers()) this.run(['delete', '--force', id]);
    for (const pid of processesMentioning(`--root\0${this.root}\0`)) {
      let argv: string[] = [];
      try {
        argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        process.kill(pid, 'SIGKILL');
      } catch {
        continue;
      }
      for (let i = 0; i < argv.length - 1; i++) {
        if (argv[i] !== '--cgroup') continue;
        for (let t = 0; t < 50; t++) {
          try {
            rmdirSync(argv[i + 1]);
            break;
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== 'EBUSY') break;
            Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
          }
        }
      }
    }
  }

  /** Container folders left under the root. */
  leftovers(): string[] {
    return existsSync(this.root) ? readdirSync(this.root) : [];
  }

  /**
   * A bundle whose rootfs holds busybox (static) and its applets; `edit` adjusts the
   * default config (runc's `spec` output with terminal off).
   */
  bundle(name: string, args: string[], edit: (c: Record<string, unknown>) => void = () => {}): string {
    const dir = join(this.work, name);
    const rootfs = join(dir, 'rootfs');
    mkdirSync(join(rootfs, 'bin'), { recursive: true });
    for (const d of ['tmp', 'proc', 'sys', 'dev']) mkdirSync(join(rootfs, d), { recursive: true });
    copyFileSync(BUSYBOX, join(rootfs, 'bin', 'busybox'));
    chmodSync(join(rootfs, 'bin', 'busybox'), 0o755);
    for (const a of ['sh', 'echo', 'cat', 'sleep', 'true', 'false', 'env', 'pwd', 'id', 'hostname', 'ls', 'nc']) {
      symlinkSync('busybox', join(rootfs, 'bin', a));
    }
    const r = this.run(['spec', '--bundle', dir]);
    if (r.status !== 0) throw new Error(`spec: ${r.stderr}`);
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    const proc = cfg.process as Record<string, unknown>;
    proc.terminal = false;
    proc.args = args;
    proc.env = ['PATH=/bin', 'HOME=/root'];
    edit(cfg);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg, null, 2));
    return dir;
  }
}

export function alive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Host processes whose command line mentions `needle` (to prove nothing is left running). */
export function processesMentioning(needle: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      if (cmd.includes(needle) && alive(Number(p))) out.push(Number(p));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

export async function until(cond: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return cond();
}
