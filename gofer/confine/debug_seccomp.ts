// `tsvisor debug seccomp gofer [--pid N]`: the Gofer's filter as readable rules (like
// seccomp-tools dump), so a user can audit what a confined Gofer may still do. The only
// per-process value in it is the pid signals are restricted to (default: a placeholder 1).

import { dumpFilter } from '../../sentry/seccomp/dump.js';
import { goferSeccompFilter } from './policy.js';

export function debugSeccompCommand(args: string[]): number {
  if (args[0] !== 'gofer') {
    process.stderr.write('usage: tsvisor debug seccomp gofer [--pid N]\n');
    return 2;
  }
  let pid = 1;
  if (args[1] === '--pid') {
    pid = Number(args[2]);
    if (!Number.isInteger(pid) || pid <= 0) {
      process.stderr.write('tsvisor debug seccomp gofer: --pid needs a process id\n');
      return 2;
    }
  } else if (args.length > 1) {
    process.stderr.write(`tsvisor debug seccomp gofer: unknown argument ${args[1]}\n`);
    return 2;
  }
  process.stdout.write(dumpFilter(goferSeccompFilter(pid).compile()));
  return 0;
}
