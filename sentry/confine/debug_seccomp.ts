// `tsvisor debug seccomp sentry`: the Sentry's filter as readable rules, to audit what a
// confined Sentry may still do.

import { dumpFilter } from '../seccomp/dump.js';
import { sentrySeccompFilter } from './policy.js';

export function debugSeccompSentryCommand(args: string[]): number {
  if (args.length > 0) {
    process.stderr.write(`tsvisor debug seccomp sentry: unknown argument ${args[0]}\n`);
    return 2;
  }
  process.stdout.write(dumpFilter(sentrySeccompFilter().compile()));
  return 0;
}
