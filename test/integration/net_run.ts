// A `tsvisor do --network=MODE` run started in the background whose stdout lines a test can
// await (servers in the sandbox print their port; clients print their result).

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { ENV, TSVISOR } from './helpers.js';

export class NetRun {
  readonly child: ChildProcessWithoutNullStreams;
  out = '';
  err = '';
  readonly exited: Promise<number>;

  constructor(network: 'sandbox' | 'host' | 'none', argv: string[]) {
    this.child = spawn(process.execPath, [TSVISOR, 'do', `--network=${network}`, '--', ...argv], { env: ENV });
    this.child.stdout.on('data', (d: Buffer) => (this.out += d.toString()));
    this.child.stderr.on('data', (d: Buffer) => (this.err += d.toString()));
    this.exited = new Promise((res) => this.child.on('close', (code) => res(code ?? -1)));
  }

  get stdout(): string {
    return this.out;
  }

  /** The first stdout line starting with prefix (its remaining words). */
  async line(prefix: string, timeoutMs = 30_000): Promise<string[]> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const l = this.out.split('\n').find((x) => x.startsWith(prefix + ' '));
      if (l !== undefined) return l.slice(prefix.length + 1).trim().split(/\s+/);
      if (Date.now() > end) throw new Error(`no "${prefix}" line; stdout: ${this.out} stderr: ${this.err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
