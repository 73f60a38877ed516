// OCI capability names (process.capabilities) as the bit masks the Sentry's Credentials hold.

import type { CapSets } from '../../sentry/kernel/credentials.js';
import type { OciCapabilities } from './spec.js';

/** Linux's capability numbers (linux/capability.h), CAP_CHOWN = 0 .. CAP_CHECKPOINT_RESTORE = 40. */
export const CAP_NAMES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ',
  'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
] as const;

/** The bit of a capability name, or undefined for a name Linux does not define. */
export function capBit(name: string): bigint | undefined {
  const i = (CAP_NAMES as readonly string[]).indexOf(name);
  return i < 0 ? undefined : 1n << BigInt(i);
}

/**
 * The sets an OCI process asks for. A set the config leaves out is empty, as runc
 * leaves it (runc clears every set it is not given).
 */
export function capSets(c: OciCapabilities): CapSets {
  const mask = (names: string[] | undefined): bigint => (names ?? []).reduce((m, n) => m | (capBit(n) ?? 0n), 0n);
  return {
    bounding: mask(c.bounding),
    effective: mask(c.effective),
    permitted: mask(c.permitted),
    inheritable: mask(c.inheritable),
    ambient: mask(c.ambient),
  };
}
