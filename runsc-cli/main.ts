// The tsvisor command line. `do` runs a command in a sandbox whose root is a host directory
// (default /) served read-only; the OCI commands arrive with the runtime issue.

import { appendFileSync } from 'node:fs';
import { runSandbox } from '../sentry/boot.js';

const USAGE = `usage: tsvisor [global flags] COMMAND [flags]

Commands:
  do [--rootfs DIR] [--strace] [--cwd DIR] -- CMD [ARGS...]
        run CMD in a new sandbox (root: DIR, default /, read-only); exits with CMD's status
  help  show this text

Global flags:
  --debug            write the Sentry's debug log to stderr
  --debug-log FILE   append the Sentry's debug log to FILE
  --strace           print every syscall of the sandboxed program (also a 'do' flag)
`;

class UsageError extends Error {}

interface Parsed {
  command: string;
  debug: boolean;
  debugLog?: string;
  strace: boolean;
  rootfs: string;
  cwd: string;
  argv: string[];
}

function parse(args: string[]): Parsed {
  const p: Parsed = { command: '', debug: false, strace: false, rootfs: '/', cwd: '/', argv: [] };
  let i = 0;
  const value = (flag: string): string => {
    const v = args[++i];
    if (v === undefined) throw new UsageError(`flag ${flag} needs a value`);
    return v;
  };
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      if (p.command === '') throw new UsageError('no command given');
      p.argv = args.slice(i + 1);
      break;
    }
    const eq = a.indexOf('=');
    const [flag, inline] = a.startsWith('--') && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
    const val = (): string => inline ?? value(flag);
    switch (flag) {
      case '--debug': p.debug = true; continue;
      case '--debug-log': p.debugLog = val(); continue;
      case '--strace': p.strace = true; continue;
      case '--rootfs': p.rootfs = val(); continue;
      case '--cwd': p.cwd = val(); continue;
      case '-h': case '--help': p.command = 'help'; continue;
    }
    if (a.startsWith('-')) throw new UsageError(`unknown flag: ${a}`);
    if (p.command === '') {
      p.command = a;
      continue;
    }
    // First positional after the command starts CMD (like `runsc do CMD ARGS`).
    p.argv = args.slice(i);
    break;
  }
  return p;
}

async function main(): Promise<number> {
  let p: Parsed;
  try {
    p = parse(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`tsvisor: ${e.message}\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  switch (p.command) {
    case 'help':
    case '':
      process.stdout.write(USAGE);
      return p.command === '' ? 2 : 0;
    case 'do':
      return doCommand(p);
    default:
      process.stderr.write(`tsvisor: unknown command "${p.command}"\n${USAGE}`);
      return 2;
  }
}

async function doCommand(p: Parsed): Promise<number> {
  if (p.argv.length === 0) {
    process.stderr.write(`tsvisor do: no command to run\n${USAGE}`);
    return 2;
  }
  let log: ((line: string) => void) | undefined;
  if (p.debugLog !== undefined) {
    const file = p.debugLog;
    log = (line) => appendFileSync(file, `${new Date().toISOString()} ${line}\n`);
  } else if (p.debug) {
    log = (line) => process.stderr.write(`tsvisor: ${line}\n`);
  }
  const env = Object.entries(process.env).map(([k, v]) => `${k}=${v ?? ''}`);
  const r = await runSandbox({ rootfs: p.rootfs, argv: p.argv, env, cwd: p.cwd, strace: p.strace, log });
  if (typeof r !== 'number') {
    process.stderr.write(`tsvisor: ${r.message}\n`);
    // Like a shell: 127 when the command is not found, 126 when it cannot be executed.
    return r.errno === 2 ? 127 : 126;
  }
  // A wait status: exit code, or 128+N for death by signal N.
  const sig = r & 0x7f;
  return sig !== 0 ? 128 + sig : (r >> 8) & 0xff;
}

main().then(
  (code) => {
    process.exitCode = code;
    // Pending host reads of stdin must not keep the process alive after the sandbox ends.
    setImmediate(() => process.exit(code));
  },
  (e: unknown) => {
    process.stderr.write(`tsvisor: internal error: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exit(125);
  },
);
