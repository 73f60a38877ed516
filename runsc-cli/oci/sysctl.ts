// linux.sysctl: which keys a container may set (those Linux keeps per namespace, as runc
// allows them), and where each lives under /proc/sys. The Sentry holds the values.

/** The IPC namespace's keys besides fs.mqueue.* (runc's list). */
const IPC_KEYS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax',
  'kernel.shmmni', 'kernel.shm_rmid_forced']);

/** The key in dotted form ("net/ipv4/ip_forward" -> "net.ipv4.ip_forward"). */
function dotted(key: string): string {
  return key.includes('/') ? key.replaceAll('/', '.') : key;
}

/** The key's path under /proc/sys ("net.ipv4.ip_forward" -> "net/ipv4/ip_forward"). */
export function sysctlPath(key: string): string {
  return key.includes('/') ? key.replace(/^\/+/, '') : key.replaceAll('.', '/');
}

/** Why the key cannot be set in a container with these namespaces, or undefined when it can. */
export function sysctlRefusal(key: string, namespaces: Set<string>): string | undefined {
  const k = dotted(key);
  if (IPC_KEYS.has(k) || k.startsWith('fs.mqueue.')) {
    return namespaces.has('ipc') ? undefined : 'needs an ipc namespace in linux.namespaces';
  }
  if (k.startsWith('net.')) return namespaces.has('network') ? undefined : 'needs a network namespace in linux.namespaces';
  if (k === 'kernel.domainname') return namespaces.has('uts') ? undefined : 'needs a uts namespace in linux.namespaces';
  if (k === 'kernel.hostname') return 'set the hostname with the config\'s "hostname" instead';
  return 'is not in a separate kernel namespace: it would change the host';
}
