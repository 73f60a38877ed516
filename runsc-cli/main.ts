// The tsvisor command line. `do` runs a command in a sandbox whose root is a host directory
// (default /) served read-only; the OCI commands arrive with the runtime issue.

import { appendFileSync, openSync } from 'node:fs';
import { buildSandboxNetwork } from './do_network.js';
import { parseSentryChild, runConfinedSentry, type SentryChild } from '../sentry/confine/sentry_process.js';
import { confineSentry } from '../sentry/confine/confine.js';
import { goferSelftestRequested, prespawnGofer, type GoferOptions } from '../sentry/fs/gofer/gofer_process.js';
// The Sentry, the Gofer and the OCI commands are imported when used, so `do`'s parent
// never runs their modules' top-level code (the Gofer has a bundle of its own).

const USAGE = `usage: tsvisor [global flags] COMMAND [flags]

Commands:
  do [--rootfs DIR] [--strace] [--profile] [--cwd DIR] [--tmpfs DIR]... [-t] -- CMD [ARGS...]
        run CMD in a new sandbox (root: DIR, default /, read-only under an in-memory
        overlay; --tmpfs mounts a fresh tmpfs on DIR); exits with CMD's status
        --volume HOST:CTR[:ro] bind-mounts host directory HOST on CTR, writable
        unless :ro (served by a Gofer of its own)
        -t gives CMD a pty of its own relayed to this terminal (the default when
        stdin is a terminal)
        --network=sandbox (default) gives CMD an eth0 on a veth pair to the host
        (10.200.0.0/16, NAT), handled by the netstack; falls back to none (with a
        warning on a terminal) when it cannot be built (not root, no ip(8));
        --network=none gives loopback only; --network=host backs CMD's TCP/UDP
        sockets with host sockets the Sentry drives (weaker isolation)
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
  network: 'none' | 'sandbox' | 'host';
  /** --network was given (a default sandbox network that cannot be built falls back to none). */
  networkExplicit: boolean;
  /** Hidden, test only: the confined Sentry makes a forbidden syscall right after boot. */
  selftestForbidden: boolean;
  argv: string[];
}

function parse(args: string[]): Parsed {
  const p: Parsed = { command: '', debug: false, strace: false, profile: false, rootfs: '/', cwd: '/', tmpfs: [], volumes: [], network: 'sandbox', networkExplicit: false, selftestForbidden: false, argv: [] };
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
        if (v !== 'none' && v !== 'sandbox' && v !== 'host') throw new UsageError(`unsupported --network=${v} (sandbox, none or host)`);
        p.network = v;
        p.networkExplicit = true;
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
  if (raw[0] === 'gofer') return (await import('../gofer/main.js')).goferMain(raw.slice(1));
  if (raw[0] === 'debug' && raw[1] === 'seccomp') {
    return raw[2] === 'sentry' ? (await import('../sentry/confine/debug_seccomp.js')).debugSeccompSentryCommand(raw.slice(3))
      : (await import('../gofer/confine/debug_seccomp.js')).debugSeccompCommand(raw.slice(2));
  }
  // A line that parses as `do` is no OCI command (`do` is not one of theirs).
  const maybeDo = (() => { try { return parse(raw).command === 'do'; } catch { return false; } })();
  const oci = maybeDo ? undefined : await (await import('./commands/index.js')).runOciCommand(raw);
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
      process.stdout.write(USAGE + (await import('./commands/index.js')).OCI_USAGE);
      return p.command === '' ? 2 : 0;
    case 'do':
      return doCommand(p, raw, child);
    default:
      process.stderr.write(`tsvisor: unknown command "${p.command}"\n${USAGE}`);
      return 2;
  }
}

/** The root's Gofer, started by the Sentry child's spawn while we load the Sentry. */
function rootGofer(p: Parsed): GoferOptions {
  return { root: p.rootfs, readOnly: true, selftestForbidden: goferSelftestRequested() };
}

function debugLine(line: string): void {
  process.stderr.write(`tsvisor: ${line}\n`);
}

async function doCommand(p: Parsed, raw: string[], child: SentryChild | undefined): Promise<number> {
  if (p.argv.length === 0) {
    process.stderr.write(`tsvisor do: no command to run\n${USAGE}`);
    return 2;
  }
  // The host side of the network is built here, by the unconfined parent of the Sentry.
  let net = p.network === 'sandbox' && child === undefined ? buildSandboxNetwork(process.pid, { debug: p.debug ? debugLine : undefined }) : undefined;
  if (typeof net === 'string') {
    if (p.networkExplicit) {
      process.stderr.write(`tsvisor: cannot build the sandbox network: ${net}\n`);
      return 125;
    }
    // The default falls back to loopback only, like a missing network. The warning goes to
    // a terminal (or the debug log) only: when stderr is piped it is the program's own, and
    // scripts and tests compare it with the program run natively.
    const why = `tsvisor: no sandbox network (${net}); running with --network=none\n`;
    if (p.debug || process.stderr.isTTY === true) process.stderr.write(why);
    net = undefined;
  }
  if (net !== undefined) {
    process.once('exit', () => net.teardown());
    // Killed from outside: still remove the namespace and the NAT rule.
    for (const [sig, n] of [['SIGTERM', 15], ['SIGHUP', 1]] as const) process.once(sig, () => process.exit(128 + n));
  }
  // Invariant 6: the Sentry runs in namespaces of its own, confined once booted.
  if (child === undefined) {
    return runConfinedSentry(raw, net?.config.nsPath, (l) => process.stderr.write(`tsvisor: ${l}\n`), { hostNetwork: p.network === 'host', becomeWaiter: net === undefined, rootGofer: rootGofer(p) });
  }
  let log: ((line: string) => void) | undefined;
  if (p.debugLog !== undefined) {
    // Opened once, before confinement: the confined Sentry opens no host path.
    const fd = openSync(p.debugLog, 'a');
    log = (line) => appendFileSync(fd, `${new Date().toISOString()} ${line}\n`);
  } else if (p.debug) {
    log = (line) => process.stderr.write(`tsvisor: ${line}\n`);
  }
  // The root's Gofer, started by our spawn alongside us (or now), is the one boot mounts.
  prespawnGofer(rootGofer(p), child.rootGofer);
  const { runSandbox } = await import('../sentry/boot.js');
  const env = Object.entries(process.env).map(([k, v]) => `${k}=${v ?? ''}`);
  const network = child.netns !== undefined ? { mode: 'sandbox' as const, nsPath: child.netns } : undefined;
  const r = await runSandbox({ rootfs: p.rootfs, argv: p.argv, env, cwd: p.cwd, tmpfs: p.tmpfs, binds: p.volumes, strace: p.strace, profile: p.profile, log,
    tty: p.tty === true || process.stdin.isTTY === true, network, hostNetwork: p.network === 'host',
    confine: () => confineSentry({ pivot: true, selftestForbidden: p.selftestForbidden, hostNetwork: p.network === 'host' }) });
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
