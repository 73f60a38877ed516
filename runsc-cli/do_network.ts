// `tsvisor do --network=sandbox`: the host side of the sandbox's network, as `runsc do`
// builds it. A network namespace holds the sandbox end of a veth pair with one address of
// a /30 and a default route, and an IPv6 /64 (the Sentry takes them over into its netstack
// at boot); the host end gets the other addresses, and NAT lets the sandbox reach the host's
// networks. Everything is removed when the sandbox ends; what a SIGKILLed `do` left behind
// (the named namespace with its veth pair, the NAT rule) is removed by the next `do` that
// builds a network (a lease file per subnet records it: reapStale).

import { spawnSync } from 'node:child_process';
import { closeSync, ftruncateSync, linkSync, mkdirSync, openSync, writeFileSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
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

function run(argv: string[], input?: string): string | null {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', input });
  if (r.error !== undefined) return `${argv.join(' ')}: ${r.error.message}`;
  if (r.status !== 0) return `${argv.join(' ')}: ${r.stderr.trim() || `exit ${r.status}`}`;
  return null;
}

/** net.ipv4.ip_forward=1 (what `sysctl -w` would do, without a process); false if it cannot be. */
function enableForwarding(): boolean {
  const path = '/proc/sys/net/ipv4/ip_forward';
  try {
    if (readFileSync(path, 'utf8').trim() !== '1') writeFileSync(path, '1\n');
    return true;
  } catch {
    return false;
  }
}

/** One lease per /30 in use: who holds it and what to remove once its holder is gone. */
const LEASE_DIR = '/run/tsvisor-net';
const SLOTS = 16384;

interface Lease {
  /** The `do` process holding it (its death frees the lease). */
  pid: number;
  ns: string;
  /** The NAT rule's arguments after `iptables -w -t nat -D`, when one was added. */
  nat?: string[];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLease(path: string): Lease | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Lease;
  } catch {
    return undefined;
  }
}

/** Removes what a dead holder left (namespace, veth, NAT rule) and frees its lease. */
function reapStale(debug?: (line: string) => void): void {
  let names: string[];
  try {
    names = readdirSync(LEASE_DIR).filter((n) => /^\d+$/.test(n));
  } catch {
    return;
  }
  for (const name of names) {
    const path = join(LEASE_DIR, name);
    const l = readLease(path);
    if (l === undefined || alive(l.pid)) continue;
    // Claim it by renaming (only one reaper wins); a live lease taken by mistake goes back.
    const mine = `${path}.reap.${process.pid}`;
    try {
      renameSync(path, mine);
    } catch {
      continue;
    }
    const again = readLease(mine);
    if (again !== undefined && alive(again.pid)) {
      try {
        linkSync(mine, path);
      } catch {
        // Someone made a new lease there meanwhile: theirs stands.
      }
      unlinkSync(mine);
      continue;
    }
    if (again?.nat !== undefined) run(['iptables', '-w', '-t', 'nat', '-D', ...again.nat]);
    if (again !== undefined) run(['ip', 'netns', 'del', again.ns]);
    debug?.(`removed the sandbox network ${again?.ns ?? name} of a dead tsvisor (pid ${again?.pid ?? '?'})`);
    unlinkSync(mine);
  }
}

/** Takes a free /30 slot, starting from the preferred one; its lease fd stays open for updates. */
function takeSlot(preferred: number, lease: Lease): { slot: number; update: (l: Lease) => void; release: () => void } | string {
  try {
    mkdirSync(LEASE_DIR, { recursive: true, mode: 0o700 });
  } catch (e) {
    return `cannot create ${LEASE_DIR}: ${(e as Error).message}`;
  }
  for (let i = 0; i < SLOTS; i++) {
    const slot = (preferred + i) % SLOTS;
    const path = join(LEASE_DIR, String(slot));
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
      return `cannot take a lease in ${LEASE_DIR}: ${(e as Error).message}`;
    }
    const write = (l: Lease): void => {
      const b = Buffer.from(JSON.stringify(l));
      writeSync(fd, b, 0, b.length, 0);
      ftruncateSync(fd, b.length);
    };
    let held = true;
    write(lease);
    return {
      slot,
      update: write,
      release: () => {
        if (!held) return;
        held = false;
        closeSync(fd);
        try {
          unlinkSync(path);
        } catch {
          // Already reaped.
        }
      },
    };
  }
  return `no free subnet in 10.200.0.0/16 (${SLOTS} sandboxes)`;
}

/** Builds the namespace, the veth pair and NAT for one sandbox; an error string on failure. */
export function buildSandboxNetwork(id = process.pid, opts: { debug?: (line: string) => void } = {}): SandboxNetwork | string {
  const ns = `tsvisor-${id}`;
  const hostIf = `tsvh${id}`.slice(0, 15);
  const sbIf = `tsvs${id}`.slice(0, 15);
  if (process.geteuid?.() !== 0) return 'needs root for a network namespace and a veth pair';
  reapStale(opts.debug);
  // A /30 per sandbox inside 10.200.0.0/16: the first free one from the id on, leased so
  // that parallel sandboxes never share one.
  const lease: Lease = { pid: process.pid, ns };
  const taken = takeSlot(id % SLOTS, lease);
  if (typeof taken === 'string') return taken;
  const slot = taken.slot;
  const base = ((10 << 24) | (200 << 16) | (slot << 2)) >>> 0;
  const hostAddr = ip4(base + 1);
  const sandboxAddr = ip4(base + 2);
  const subnet = `${ip4(base)}/30`;
  // And a /64 of the unique-local fd00:7473:7600::/48 (tsv) with the same per-sandbox number.
  const prefix6 = `fd00:7473:7600:${slot.toString(16)}`;
  const hostAddr6 = `${prefix6}::1`;
  const sandboxAddr6 = `${prefix6}::2`;
  const nat = ['-t', 'nat', 'POSTROUTING', '-s', subnet, '!', '-o', hostIf, '-j', 'MASQUERADE'];
  let natAdded = false;
  const teardown = (): void => {
    if (natAdded) run(['iptables', '-w', nat[0], nat[1], '-D', ...nat.slice(2)]);
    natAdded = false;
    // Deleting the namespace deletes the veth pair with it.
    run(['ip', 'netns', 'del', ns]);
    taken.release();
  };
  // Two ip(8) batches (host side, then inside the namespace): each process costs a few ms of
  // the sandbox's startup.
  const hostSide = [
    `netns add ${ns}`,
    `link add ${hostIf} type veth peer name ${sbIf} netns ${ns}`,
    `addr add ${hostAddr}/30 dev ${hostIf}`,
    `addr add ${hostAddr6}/64 dev ${hostIf} nodad`,
    `link set ${hostIf} up`,
  ];
  // Configured as a CNI would; the Sentry moves the address and route into its netstack.
  const nsSide = [
    `link set ${sbIf} up`,
    `addr add ${sandboxAddr}/30 dev ${sbIf}`,
    `addr add ${sandboxAddr6}/64 dev ${sbIf} nodad`,
    `route add default via ${hostAddr}`,
    `route add default via ${hostAddr6}`,
  ];
  for (const [argv, lines] of [[['ip', '-b', '-'], hostSide], [['ip', '-n', ns, '-b', '-'], nsSide]] as const) {
    const e = run([...argv], lines.join('\n') + '\n');
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
  if (enableForwarding() && run(['iptables', '-w', nat[0], nat[1], '-A', ...nat.slice(2)]) === null) {
    natAdded = true;
    taken.update({ ...lease, nat: nat.slice(2) });
  } else {
    opts.debug?.('no NAT for the sandbox network (no iptables, or IPv4 forwarding cannot be enabled): it reaches the host end of its veth only');
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
