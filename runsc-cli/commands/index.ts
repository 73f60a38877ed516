// Dispatch of the OCI runtime commands (runc's command line). Global flags come before the
// command: `tsvisor --root DIR --log FILE --log-format json create --bundle B ID`.

import { CommandError, type Ctx, type GlobalFlags } from './context.js';
import { execCommand } from './exec.js';
import { installCommand } from './install.js';
import { memberCommand } from './member.js';
import { eventsCommand, featuresCommand, pauseCommand, psCommand, resumeCommand, specCommand, updateCommand } from './info.js';
import { createCommand, deleteCommand, killCommand, listCommand, runCommand, startCommand, stateCommand, waitCommand } from './lifecycle.js';
import { sandboxCommand } from './sandbox.js';
import { ConfigError } from '../oci/config.js';
import { UsageError } from '../oci/flags.js';
import { Logger } from '../oci/log.js';
import { ContainerNotFound, DEFAULT_ROOT, StateStore } from '../oci/state.js';

type Command = (ctx: Ctx, args: string[]) => number | Promise<number>;

const COMMANDS: Record<string, Command> = {
  create: createCommand,
  start: startCommand,
  run: runCommand,
  kill: killCommand,
  delete: deleteCommand,
  state: stateCommand,
  list: listCommand,
  wait: waitCommand,
  exec: execCommand,
  ps: psCommand,
  events: eventsCommand,
  pause: pauseCommand,
  resume: resumeCommand,
  update: updateCommand,
  spec: specCommand,
  features: featuresCommand,
  install: installCommand,
  member: memberCommand,
  sandbox: sandboxCommand,
};

export const OCI_USAGE = `OCI runtime commands (runc-compatible):
  create [--bundle DIR] [--pid-file F] [--console-socket S] ID
  start ID | run [--bundle DIR] [--detach] [--pid-file F] [--keep] ID
  state ID | list [--format table|json] [--quiet] | ps [--format table|json] ID
  kill [--all] ID [SIGNAL] | delete [--force] ID | wait ID
  exec [--process F] [--tty] [--console-socket S] [--detach] [--pid-file F] [--cwd D]
       [--env K=V] [--user UID[:GID]] ID [CMD ARGS...]
  pause ID | resume ID | events [--stats] [--interval T] ID | update [--resources F] ID
  spec [--rootless] [--bundle DIR] | features
  install [--containerd-config F] [--podman-config F] [--runtime-name N] [--dry-run]
OCI global flags:
  --root DIR (default ${DEFAULT_ROOT}) --log FILE --log-format text|json --debug --debug-log FILE
  --systemd-cgroup --platform ptrace --network sandbox|host|none --strace
`;

const VALUED = new Set(['--root', '--log', '--log-format', '--debug-log', '--platform', '--network', '--criu', '--rootless']);
const BOOLS = new Set(['--debug', '--systemd-cgroup', '--strace']);

/** Splits global flags from the command; undefined when the command is not an OCI one. */
function splitGlobals(argv: string[]): { g: GlobalFlags; cmd: string; rest: string[] } | undefined {
  const g: GlobalFlags = { root: DEFAULT_ROOT, logFormat: 'text', debug: false, systemdCgroup: false, strace: false, network: 'sandbox', argv: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const name = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a.startsWith('-') && !a.startsWith('--') ? `-${a}` : a;
    if (VALUED.has(name)) {
      const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new UsageError(`flag needs an argument: ${a}`);
      g.argv.push(name, v);
      switch (name) {
        case '--root': g.root = v; break;
        case '--log': g.log = v; break;
        case '--log-format':
          if (v !== 'text' && v !== 'json') throw new UsageError(`invalid log format: ${v}`);
          g.logFormat = v;
          break;
        case '--debug-log': g.debugLog = v; break;
        case '--network':
          if (!['sandbox', 'none', 'host'].includes(v)) throw new UsageError(`invalid network: ${v}`);
          g.network = v;
          break;
        case '--platform':
          if (v !== 'ptrace') throw new UsageError(`unsupported platform: ${v} (tsvisor has ptrace)`);
          break;
      }
      continue;
    }
    if (BOOLS.has(name)) {
      g.argv.push(name);
      if (name === '--debug') g.debug = true;
      if (name === '--systemd-cgroup') g.systemdCgroup = true;
      if (name === '--strace') g.strace = true;
      continue;
    }
    if (a.startsWith('-')) return undefined;
    if (COMMANDS[a] === undefined) return undefined;
    return { g, cmd: a, rest: argv.slice(i + 1) };
  }
  return undefined;
}

/** Runs an OCI command; undefined when argv is not one (the caller handles `do` and help). */
export async function runOciCommand(argv: string[]): Promise<number | undefined> {
  let split: ReturnType<typeof splitGlobals>;
  try {
    split = splitGlobals(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`tsvisor: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (split === undefined) return undefined;
  const { g, cmd, rest } = split;
  const ctx: Ctx = { g, store: new StateStore(g.root), log: new Logger({ file: g.log, format: g.logFormat, debug: g.debug }) };
  try {
    return await COMMANDS[cmd](ctx, rest);
  } catch (e) {
    if (e instanceof UsageError) {
      ctx.log.error(`${cmd}: ${e.message}`);
      return 2;
    }
    if (e instanceof CommandError || e instanceof ConfigError || e instanceof ContainerNotFound) {
      ctx.log.error(e.message);
      return e instanceof CommandError ? e.exitCode : 1;
    }
    ctx.log.error(`${cmd}: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}
