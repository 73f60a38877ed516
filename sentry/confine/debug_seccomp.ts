// `tsvisor debug seccomp sentry [--network=host]`: the Sentry's filter as readable rules, to
// audit what a confined Sentry may still do.

import { dumpFilter } from '../seccomp/dump.js';
import { sentrySeccompFilter } from './policy.js';

export function debugSeccompSentryCommand(args: string[]): number {
  let hostNetwork = false;
  for (const a of args) {
    // The policy differs only with --network=host (hostinet's socket calls).
    if (a === '--network=host') hostNetwork = true;
    else if (a !== '--network=none' && a !== '--network=sandbox') {
      process.stderr.write(`tsvisor debug seccomp sentry: unknown argument ${a}\n`);
      return 2;
    }
  }
  process.stdout.write(dumpFilter(sentrySeccompFilter({ hostNetwork }).compile()));
  return 0;
}
