// runc's --log / --log-format: engines (conmon, containerd's shim) read errors from the log
// file, as text or as one JSON object per line ({"level","msg","time"}).

import { openSync, writeSync } from 'node:fs';

export interface LogOpts {
  file?: string;
  format: 'text' | 'json';
  debug: boolean;
}

export class Logger {
  /**
   * Opened once, up front: the sandbox's Sentry child confines itself into an empty root
   * after start-up, where the path no longer resolves but this fd still writes.
   */
  private readonly fd: number | undefined;

  constructor(private readonly opts: LogOpts) {
    if (opts.file === undefined) return;
    try {
      this.fd = openSync(opts.file, 'a', 0o644);
    } catch {
      // The log is best effort: a broken log path must not change the command's outcome.
    }
  }

  private write(level: string, msg: string): void {
    const time = new Date().toISOString();
    const line = this.opts.format === 'json'
      ? JSON.stringify({ level, msg, time }) + '\n'
      : `time="${time}" level=${level} msg="${msg.replace(/"/g, '\\"')}"\n`;
    if (this.fd !== undefined) {
      try {
        writeSync(this.fd, line);
      } catch {
        // As above: best effort.
      }
    }
  }

  debug(msg: string): void {
    if (this.opts.debug) this.write('debug', msg);
  }

  info(msg: string): void {
    this.write('info', msg);
  }

  warn(msg: string): void {
    this.write('warning', msg);
  }

  /** Errors go to the log and to stderr, as runc does. */
  error(msg: string): void {
    this.write('error', msg);
    process.stderr.write(`tsvisor: ${msg}\n`);
  }
}
