// Where bound unix sockets are found: abstract names live in the sandbox's (network
// namespace's) table; filesystem names are socket inodes, found by their inode key.

import type { Kernel } from '../../kernel/kernel.js';
import type { UnixSocket } from './unix_socket.js';

export class UnixNamespace {
  private readonly abstract = new Map<string, UnixSocket>();
  private readonly byInode = new Map<string, UnixSocket>();
  private nextAuto = 0;
  /** Every open unix socket of the sandbox, for /proc/net/unix. */
  readonly live = new Set<UnixSocket>();

  private static keyOf(name: Uint8Array): string {
    return Buffer.from(name).toString('latin1');
  }

  lookupAbstract(name: Uint8Array): UnixSocket | undefined {
    return this.abstract.get(UnixNamespace.keyOf(name));
  }
  /** Claims an abstract name; false when it is taken. */
  bindAbstract(name: Uint8Array, s: UnixSocket): boolean {
    const k = UnixNamespace.keyOf(name);
    if (this.abstract.has(k)) return false;
    this.abstract.set(k, s);
    return true;
  }
  unbindAbstract(name: Uint8Array, s: UnixSocket): void {
    const k = UnixNamespace.keyOf(name);
    if (this.abstract.get(k) === s) this.abstract.delete(k);
  }

  /** A free autobind name: five hex digits, as Linux's unix_autobind picks. */
  autobindName(): Uint8Array | null {
    for (let i = 0; i < 0x100000; i++) {
      const n = this.nextAuto;
      this.nextAuto = (this.nextAuto + 1) & 0xfffff;
      const name = Buffer.from(n.toString(16).padStart(5, '0'), 'latin1');
      if (!this.abstract.has(UnixNamespace.keyOf(name))) return new Uint8Array(name);
    }
    return null;
  }

  lookupInode(key: string): UnixSocket | undefined {
    return this.byInode.get(key);
  }
  bindInode(key: string, s: UnixSocket): void {
    this.byInode.set(key, s);
  }
  unbindInode(key: string, s: UnixSocket): void {
    if (this.byInode.get(key) === s) this.byInode.delete(key);
  }
}

const namespaces = new WeakMap<Kernel, UnixNamespace>();

/** The namespace if the sandbox has made one, without making it (for /proc readers). */
export function peekUnixNamespace(k: Kernel): UnixNamespace | undefined {
  return namespaces.get(k);
}

/** The unix socket namespace of a sandbox. */
export function unixNamespaceOf(k: Kernel): UnixNamespace {
  let ns = namespaces.get(k);
  if (ns === undefined) {
    ns = new UnixNamespace();
    namespaces.set(k, ns);
  }
  return ns;
}
