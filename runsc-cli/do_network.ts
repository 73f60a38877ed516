// `tsvisor do --network=sandbox`: the host side of the sandbox's network, as `runsc do`
// builds it. A network namespace holds the sandbox end of a veth pair with one address of
// a /30 and a default route, and an IPv6 /64 (the Sentry takes them over into its netstack
// at boot); the host end gets the other addresses, and NAT lets the sandbox reach the host's
// networks. Everything is removed when the sandbox ends.

import { spawnSync } from 'node:child_process';
import { native } from '../sentry/platform/ptrace/native.js';
import type { NetworkConfig } from '../sentry/socket/inet/outside_link.js';

interface OffloadNative {
  netOffloadOff(ifname: string): number;
}

export interface SandboxNetwork {
  config: NetworkConfig;
  /** The host end's address: the sandbox's gateway, reachable from the host. */
  hostAddr: string;
  sandboxAddr: string;
  hostAddr6: string;
  sandboxAddr6: string;
  teardown(): void;
}

function ip4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

function run(argv: string[]): string | null {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  if (r.error !== undefined) return `${argv.join(' ')}: ${r.error.message}`;
  if (r.status !== 0) return `${argv.join(' ')}: ${r.stderr.trim() || `exit ${r.status}`}`;
  return null;
}

/** Builds the namespace, the veth pair and NAT for one sandbox; an error string on failure. */
export function buildSandboxNetwork(id = process.pid): SandboxNetwork | string {
  const ns = `tsvisor-${id}`;
  const hostIf = `tsvh${id}`.slice(0, 15);
  const sbIf = `tsvs${id}`.slice(0, 15);
  // A /30 per sandbox inside 10.200.0.0/16, picked from the id.
  const base = ((10 << 24) | (200 << 16) | ((id % 16384) << 2)) >>> 0;
  const hostAddr = ip4(base + 1);
  const sandboxAddr = ip4(base + 2);
  const subnet = `${ip4(base)}/30`;
  // And a /64 of the unique-local fd00:7473:7600::/48 (tsv) with the same per-sandbox number.
  const prefix6 = `fd00:7473:7600:${(id % 65536).toString(16)}`;
  const hostAddr6 = `${prefix6}::1`;
  const sandboxAddr6 = `${prefix6}::2`;
  const nat = ['-t', 'nat', 'POSTROUTING', '-s', subnet, '!', '-o', hostIf, '-j', 'MASQUERADE'];
  let natAdded = false;
  const teardown = (): void => {
    if (natAdded) run(['iptables', '-w', nat[0], nat[1], '-D', ...nat.slice(2)]);
    natAdded = false;
    // Deleting the namespace deletes the veth pair with it.
    run(['ip', 'netns', 'del', ns]);
  };
  const steps: string[][] = [
    ['ip', 'netns', 'add', ns],
    ['ip', 'link', 'add', hostIf, 'type', 'veth', 'peer', 'name', sbIf, 'netns', ns],
    ['ip', 'addr', 'add', `${hostAddr}/30`, 'dev', hostIf],
    ['ip', 'link', 'set', hostIf, 'up'],
    ['ip', '-n', ns, 'link', 'set', sbIf, 'up'],
    // Configured as a CNI would; the Sentry moves the address and route into its netstack.
    ['ip', '-n', ns, 'addr', 'add', `${sandboxAddr}/30`, 'dev', sbIf],
    ['ip', '-n', ns, 'addr', 'add', `${sandboxAddr6}/64`, 'dev', sbIf, 'nodad'],
    ['ip', 'addr', 'add', `${hostAddr6}/64`, 'dev', hostIf, 'nodad'],
    ['ip', '-n', ns, 'route', 'add', 'default', 'via', hostAddr],
  ];
  for (const s of steps) {
    const e = run(s);
    if (e !== null) {
      teardown();
      return e;
    }
  }
  // The host end must hand the netstack finished checksums and MTU-sized frames.
  const off = (native() as unknown as OffloadNative).netOffloadOff(hostIf);
  if (off < 0) {
    teardown();
    return `cannot turn off offloads on ${hostIf}: errno ${-off}`;
  }
  // NAT to the host's other networks, like runsc do; without iptables the sandbox still
  // reaches the host end of the veth.
  if (run(['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']) === null &&
      run(['iptables', '-w', nat[0], nat[1], '-A', ...nat.slice(2)]) === null) {
    natAdded = true;
  }
  return {
    config: { mode: 'sandbox', nsPath: `/run/netns/${ns}` },
    hostAddr,
    sandboxAddr,
    hostAddr6,
    sandboxAddr6,
    teardown,
  };
}
