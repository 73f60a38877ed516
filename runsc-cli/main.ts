// The tsvisor command line. `do` runs a command in a sandbox whose root is a host directory
// (default /) served read-only; the OCI commands arrive with the runtime issue.

import { appendFileSync, openSync } from 'node:fs';
import { runSandbox } from '../sentry/boot.js';
import { goferMain } from '../gofer/main.js';
import { debugSeccompCommand } from '../gofer/confine/debug_seccomp.js';
import { OCI_USAGE, runOciCommand } from './commands/index.js';
import { buildSandboxNetwork } from './do_network.js';
import { parseSentryChild, runConfinedSentry, type SentryChild } from '../sentry/confine/sentry_process.js';
import { confineSentry } from '../sentry/confine/confine.js';
import { debugSeccompSentryCommand } from '../sentry/confine/debug_seccomp.js';

const USAGE = `usage: tsvisor [global flags] COMMAND [flags]

Commands:
  do [--rootfs DIR] [--strace] [--profile] [--cwd DIR] [--tmpfs DIR]... [-t] -- CMD [ARGS...]
        run CMD in a new sandbox (root: DIR, default /, read-only under an in-memory
        overlay; --tmpfs mounts a fresh tmpfs on DIR); exits with CMD's status
        --volume HOST:CTR[:ro] bind-mounts host directory HOST on CTR, writable
        unless :ro (served by a Gofer of its own)
        -t gives CMD a pty of its own relayed to this terminal (the default when
        stdin is a terminal)
        --network=none (default) gives CMD loopback only; --network=sandbox adds an
        eth0 on a veth pair to the host (10.200.0.0/16, NAT), handled by the netstack
  help  show this text

Global flags:
  --debug            write the Sentry's debug log to stderr
  --debug-log FILE   append the Sentry's debug log to FILE
  --strace           print every syscall of the sandboxed program (also a 'do' flag)
  --profile          at exit, print per-syscall counts and times to stderr (also a 'do' flag)
`;

class UsageError extends Error {}

interface Parsed {
  command: string;
  debug: boolean;
  debugLog?: string;
  strace: boolean;
  profile: boolean;
  rootfs: string;
  cwd: string;
  tmpfs: string[];
  /** do --volume HOST:CTR[:ro]: host directories bind-mounted in. */
  volumes: { source: string; destination: string; readOnly: boolean }[];
  /** do -t: give the program a pty relayed to this terminal. */
  tty?: boolean;
  network: 'none' | 'sandbox';
  /** Hidden, test only: the confined Sentry makes a forbidden syscall right after boot. */
  selftestForbidden: boolean;
  argv: string[];
}

function parse(args: string[]): Parsed {
  const p: Parsed = { command: '', debug: false, strace: false, profile: false, rootfs: '/', cwd: '/', tmpfs: [], volumes: [], network: 'none', selftestForbidden: false, argv: [] };
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
      case '--profile': p.profile = true; continue;
      case '--rootfs': p.rootfs = val(); continue;
      case '--cwd': p.cwd = val(); continue;
      case '-t': case '--tty': p.tty = true; continue;
      case '--tmpfs': p.tmpfs.push(val()); continue;
      case '-v': case '--volume': p.volumes.push(parseVolume(val())); continue;
      case '--network': {
        const v = val();
        if (v !== 'none' && v !== 'sandbox') throw new UsageError(`unsupported --network=${v} (none or sandbox)`);
        p.network = v;
        continue;
      }
      case '-h': case '--help': p.command = 'help'; continue;
      case '--selftest-forbidden-syscall': p.selftestForbidden = true; continue;
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

function parseVolume(spec: string): Parsed['volumes'][number] {
  const [source, destination, mode, ...rest] = spec.split(':');
  if (source === undefined || destination === undefined || !source.startsWith('/') || !destination.startsWith('/') ||
    rest.length > 0 || (mode !== undefined && mode !== 'ro' && mode !== 'rw')) {
    throw new UsageError(`bad --volume ${spec} (HOST:CTR[:ro|rw], absolute paths)`);
  }
  return { source, destination, readOnly: mode === 'ro' };
}

async function main(): Promise<number> {
  // Hidden: the Gofer process the Sentry spawns (like runsc's `gofer`), and filter audits.
  // The confined Sentry child of `do` gets the user's command line after a hidden prefix.
  const child = parseSentryChild(process.argv.slice(2));
  const raw = child?.rest ?? process.argv.slice(2);
  if (raw[0] === 'gofer') return goferMain(raw.slice(1));
  if (raw[0] === 'debug' && raw[1] === 'seccomp') return raw[2] === 'sentry' ? debugSeccompSentryCommand(raw.slice(3)) : debugSeccompCommand(raw.slice(2));
  const oci = await runOciCommand(raw);
  if (oci !== undefined) return oci;
  let p: Parsed;
  try {
    p = parse(raw);
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
      process.stdout.write(USAGE + OCI_USAGE);
      return p.command === '' ? 2 : 0;
    case 'do':
      return doCommand(p, raw, child);
    default:
      process.stderr.write(`tsvisor: unknown command "${p.command}"\n${USAGE}`);
      return 2;
  }
}

async function doCommand(p: Parsed, raw: string[], child: SentryChild | undefined): Promise<number> {
  if (p.argv.length === 0) {
    process.stderr.write(`tsvisor do: no command to run\n${USAGE}`);
    return 2;
  }
  // The host side of the network is built here, by the unconfined parent of the Sentry.
  const net = p.network === 'sandbox' && child === undefined ? buildSandboxNetwork() : undefined;
  if (typeof net === 'string') {
    process.stderr.write(`tsvisor: cannot build the sandbox network: ${net}\n`);
    return 125;
  }
  if (net !== undefined) {
    process.once('exit', () => net.teardown());
    // Killed from outside: still remove the namespace and the NAT rule.
    for (const [sig, n] of [['SIGTERM', 15], ['SIGHUP', 1]] as const) process.once(sig, () => process.exit(128 + n));
  }
  // Invariant 6: the Sentry runs in namespaces of its own, confined once booted.
  if (child === undefined) return runConfinedSentry(raw, net?.config.nsPath, (l) => process.stderr.write(`tsvisor: ${l}\n`));
  let log: ((line: string) => void) | undefined;
  if (p.debugLog !== undefined) {
    // Opened once, before confinement: the confined Sentry opens no host path.
    const fd = openSync(p.debugLog, 'a');
    log = (line) => appendFileSync(fd, `${new Date().toISOString()} ${line}\n`);
  } else if (p.debug) {
    log = (line) => process.stderr.write(`tsvisor: ${line}\n`);
  }
  const env = Object.entries(process.env).map(([k, v]) => `${k}=${v ?? ''}`);
  const network = child.netns !== undefined ? { mode: 'sandbox' as const, nsPath: child.netns } : undefined;
  const r = await runSandbox({ rootfs: p.rootfs, argv: p.argv, env, cwd: p.cwd, tmpfs: p.tmpfs, binds: p.volumes, strace: p.strace, profile: p.profile, log,
    tty: p.tty === true || process.stdin.isTTY === true, network, confine: () => confineSentry({ pivot: true, selftestForbidden: p.selftestForbidden }) });
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
