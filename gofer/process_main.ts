// The Gofer process's own entry, bundled alone as dist/tsvisor-gofer.cjs (scripts/build.mjs):
// `tsvisor gofer ARGS` starts without loading or compiling the Sentry and the CLI.

import { goferMain } from './main.js';

goferMain(process.argv.slice(3)).then(
  (code) => {
    process.exitCode = code;
    setImmediate(() => process.exit(code));
  },
  (e: unknown) => {
    process.stderr.write(`tsvisor gofer: internal error: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exit(125);
  },
);
