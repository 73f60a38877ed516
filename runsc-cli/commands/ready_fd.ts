// The ready pipe: a re-spawned sandbox, pod member or exec process tells the command that
// started it (create, exec) how its start-up went, in one line, then closes the pipe.

import { closeSync, writeSync } from 'node:fs';
import type { Ctx } from './context.js';

export interface ReadyPipe {
  /** Sends one line ("ok ..." or "error ..."); later calls do nothing. */
  report(msg: string): void;
  /** Logs msg, reports it as an error and returns the exit code 1. */
  fail(msg: string): number;
}

/** The ready pipe at fd, or one that only logs when the creator gave none (enabled false). */
export function readyPipe(ctx: Ctx, fd: number, enabled: boolean): ReadyPipe {
  let reported = false;
  const report = (msg: string): void => {
    if (reported || !enabled) return;
    reported = true;
    try {
      writeSync(fd, msg + '\n');
      closeSync(fd);
    } catch {
      // The creator is gone; nothing to tell.
    }
  };
  return {
    report,
    fail: (msg) => {
      ctx.log.error(msg);
      report(`error ${msg}`);
      return 1;
    },
  };
}
