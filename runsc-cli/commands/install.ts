// `tsvisor install`: registers tsvisor with containerd (a CRI runtime handler using the runc
// v2 shim with our binary) and podman (a named runtime). Idempotent: a config that already
// names the runtime is left alone.

import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseFlags } from '../oci/flags.js';
import { CommandError, type Ctx } from './context.js';

export function containerdSnippet(name: string, binary: string, root: string): string {
  const key = `plugins."io.containerd.grpc.v1.cri".containerd.runtimes.${name}`;
  return [
    `# Added by \`tsvisor install\`: Kubernetes pods with runtimeClassName "${name}" run in tsvisor.`,
    `[${key}]`,
    '  runtime_type = "io.containerd.runc.v2"',
    `  [${key}.options]`,
    `    BinaryName = "${binary}"`,
    `    Root = "${root}"`,
    '',
  ].join('\n');
}

export function podmanSnippet(name: string, binary: string): string {
  return [`# Added by \`tsvisor install\`: podman --runtime ${name}`, '[engine.runtimes]', `${name} = ["${binary}"]`, ''].join('\n');
}

export function installCommand(ctx: Ctx, args: string[]): number {
  const f = parseFlags(args, {
    'containerd-config': 'string', 'podman-config': 'string', 'runtime-name': 'string', binary: 'string',
    'no-containerd': 'bool', 'no-podman': 'bool', 'dry-run': 'bool',
  });
  const name = f.strings.get('runtime-name') ?? 'tsvisor';
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new CommandError(`invalid runtime name: ${name}`);
  const binary = f.strings.get('binary') ?? realpathSync(process.argv[1]);
  if (/["\\\n]/.test(binary)) throw new CommandError(`cannot write ${binary} into a TOML string`);
  const dry = f.bools.has('dry-run');
  if (!f.bools.has('no-containerd')) {
    const file = f.strings.get('containerd-config') ?? '/etc/containerd/config.toml';
    const old = existsSync(file) ? readFileSync(file, 'utf8') : '';
    if (old.includes(`containerd.runtimes.${name}]`)) {
      process.stdout.write(`${file}: runtime ${name} already configured\n`);
    } else {
      if (old !== '' && !/^\s*version\s*=\s*2\s*$/m.test(old)) {
        throw new CommandError(`${file} is not a version 2 containerd config; add this by hand:\n${containerdSnippet(name, binary, ctx.g.root)}`);
      }
      const text = (old === '' ? 'version = 2\n\n' : old.endsWith('\n') ? `${old}\n` : `${old}\n\n`) + containerdSnippet(name, binary, ctx.g.root);
      if (dry) process.stdout.write(`--- ${file}\n${text}`);
      else {
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, text);
        process.stdout.write(`${file}: added runtime ${name} (restart containerd)\n`);
      }
    }
  }
  if (!f.bools.has('no-podman')) {
    const file = f.strings.get('podman-config') ?? '/etc/containers/containers.conf.d/tsvisor.conf';
    const text = podmanSnippet(name, binary);
    if (dry) process.stdout.write(`--- ${file}\n${text}`);
    else {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, text);
      process.stdout.write(`${file}: podman --runtime ${name} now runs tsvisor\n`);
    }
  }
  return 0;
}
