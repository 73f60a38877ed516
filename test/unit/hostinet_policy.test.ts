// --network=host widens the Sentry's seccomp policy by exactly hostinet's socket calls,
// and only in that mode: the default policy is the same program as before, and it still
// refuses socket/bind/connect/listen. Also the sockopt allowlist's routing.

import { describe, expect, it } from 'vitest';
import { E } from '../../sentry/abi/errno.js';
import { SYS } from '../../sentry/abi/sysno.js';
import { Action, type SeccompAction } from '../../sentry/seccomp/action.js';
import { BpfError } from '../../sentry/seccomp/bpf.js';
import { runFilter } from '../../sentry/seccomp/interpreter.js';
import { sentrySeccompFilter } from '../../sentry/confine/policy.js';
import { optionRoute } from '../../sentry/socket/hostinet/sockopts.js';

const X86_64 = 0xc000003e;

function decider(hostNetwork: boolean | undefined): (nr: number, args?: bigint[]) => SeccompAction {
  const prog = sentrySeccompFilter(hostNetwork === undefined ? {} : { hostNetwork }).program();
  return (nr, args = []) => {
    const r = runFilter(prog, { nr, arch: X86_64, instructionPointer: 0x7f0000001000n, args });
    if (r instanceof BpfError) throw new Error(r.toString());
    return r.action;
  };
}

const SOCKET_CALLS = [SYS.socket, SYS.bind, SYS.connect, SYS.listen];
const HOSTINET_IOCTLS = [0x5411n, 0x8905n, 0x8912n, 0x8913n, 0x8915n, 0x8927n, 0x8933n];

describe('hostinet seccomp policy', () => {
  it('leaves the default policy unchanged: same program, socket calls refused', () => {
    const def = Buffer.from(sentrySeccompFilter().compile());
    expect(Buffer.from(sentrySeccompFilter({ hostNetwork: false }).compile()).equals(def)).toBe(true);
    const decide = decider(undefined);
    for (const nr of SOCKET_CALLS) expect(decide(nr, [2n, 1n, 0n])).toEqual(Action.ERRNO(E.EPERM));
    for (const cmd of HOSTINET_IOCTLS) expect(decide(SYS.ioctl, [3n, cmd])).toEqual(Action.ERRNO(E.EPERM));
    expect(Buffer.from(sentrySeccompFilter({ hostNetwork: true }).compile()).equals(def)).toBe(false);
  });

  it('with --network=host allows IPv4/IPv6 sockets and their calls, nothing else new', () => {
    const host = decider(true);
    const def = decider(undefined);
    expect(host(SYS.socket, [2n, 0x80801n, 0n])).toEqual(Action.ALLOW);
    expect(host(SYS.socket, [10n, 0x80802n, 0n])).toEqual(Action.ALLOW);
    // Other families (AF_UNIX, AF_PACKET, AF_NETLINK) stay refused.
    for (const fam of [1n, 16n, 17n]) expect(host(SYS.socket, [fam, 3n, 0n])).toEqual(Action.ERRNO(E.EPERM));
    for (const nr of [SYS.bind, SYS.connect, SYS.listen]) expect(host(nr, [3n])).toEqual(Action.ALLOW);
    for (const cmd of HOSTINET_IOCTLS) expect(host(SYS.ioctl, [3n, cmd])).toEqual(Action.ALLOW);
    // SIOCSIFFLAGS: configuring the host's interfaces stays refused.
    expect(host(SYS.ioctl, [3n, 0x8914n])).toEqual(Action.ERRNO(E.EPERM));
    // Everything the default policy decides is decided the same way.
    for (const nr of [SYS.execve, SYS.fork, SYS.ptrace, SYS.openat, SYS.read, SYS.sendmsg, SYS.accept4, SYS.setns, SYS.socketpair]) {
      expect(host(nr, [0n, 0n])).toEqual(def(nr, [0n, 0n]));
    }
  });
});

describe('hostinet sockopt allowlist', () => {
  it('passes plain options, keeps the Sentry-owned ones, refuses the rest', () => {
    expect(optionRoute(1, 2, true)).toBe('host'); // SO_REUSEADDR
    expect(optionRoute(6, 1, true)).toBe('host'); // TCP_NODELAY
    expect(optionRoute(41, 26, true)).toBe('host'); // IPV6_V6ONLY
    expect(optionRoute(1, 20, true)).toBe('sentry'); // SO_RCVTIMEO: the Sentry blocks, not the host
    expect(optionRoute(1, 4, false)).toBe('host'); // SO_ERROR read
    expect(optionRoute(1, 4, true)).toBe('refuse'); // SO_ERROR is read-only
    expect(optionRoute(1, 25, true)).toBe('refuse'); // SO_BINDTODEVICE
    expect(optionRoute(0, 8, true)).toBe('refuse'); // IP_PKTINFO: control messages are not translated
    expect(optionRoute(263, 1, true)).toBe('refuse'); // SOL_PACKET
  });
});
