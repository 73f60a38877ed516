// A task's identity inside the sandbox (its user namespace view), and its capabilities.

/** Every capability up to CAP_CHECKPOINT_RESTORE (40), as Linux 5.9+ defines them. */
export const CAP_FULL = (1n << 41n) - 1n;
export const CAP_SETGID = 6;
export const CAP_SETUID = 7;
export const CAP_SETPCAP = 8;

/** The five capability sets of a process, as bit masks. */
export interface CapSets {
  bounding: bigint;
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
  ambient: bigint;
}

export class Credentials {
  constructor(
    public uid = 0,
    public gid = 0,
    public euid = 0,
    public egid = 0,
    public suid = 0,
    public sgid = 0,
    public fsuid = 0,
    public fsgid = 0,
    public groups: number[] = [],
    // Root starts with every capability; other identities with none (no file caps here).
    public capEffective = euid === 0 ? CAP_FULL : 0n,
    public capPermitted = uid === 0 || euid === 0 || suid === 0 ? CAP_FULL : 0n,
    public capInheritable = 0n,
    /** PR_SET_KEEPCAPS: permitted capabilities survive leaving uid 0. */
    public keepCaps = false,
    /** The bounding set: the most a root execve can grant (PR_CAPBSET_DROP shrinks it). */
    public capBounding = CAP_FULL,
    /** Ambient capabilities: kept across execve of a non-root program (PR_CAP_AMBIENT). */
    public capAmbient = 0n,
  ) {}

  /** Credentials with explicit capability sets (an OCI process's `capabilities`). */
  static withCaps(uid: number, gid: number, groups: number[], caps: CapSets): Credentials {
    const c = new Credentials(uid, gid, uid, gid, uid, gid, uid, gid, [...groups]);
    c.capBounding = caps.bounding;
    c.capPermitted = caps.permitted;
    c.capInheritable = caps.inheritable;
    // Linux keeps ambient within permitted and inheritable; effective within permitted.
    c.capAmbient = caps.ambient & caps.permitted & caps.inheritable;
    c.capEffective = caps.effective & caps.permitted;
    return c;
  }

  hasCap(cap: number): boolean {
    return (this.capEffective & (1n << BigInt(cap))) !== 0n;
  }

  clone(): Credentials {
    return new Credentials(this.uid, this.gid, this.euid, this.egid, this.suid, this.sgid,
      this.fsuid, this.fsgid, [...this.groups], this.capEffective, this.capPermitted, this.capInheritable, this.keepCaps,
      this.capBounding, this.capAmbient);
  }

  /**
   * execve's capability transformation (capabilities(7)) for a file without file
   * capabilities, set-id bits never being honoured here: root (real or effective) gets
   * bounding | inheritable | ambient as permitted, effective too when euid is 0; anyone
   * else keeps only the ambient set. PR_SET_KEEPCAPS is cleared.
   */
  applyExec(): void {
    if (this.uid === 0 || this.euid === 0) this.capPermitted = this.capBounding | this.capInheritable | this.capAmbient;
    else this.capPermitted = this.capAmbient;
    this.capEffective = this.euid === 0 ? this.capPermitted : this.capAmbient;
    this.keepCaps = false;
  }

  /**
   * Applies a uid change with Linux's capability rules (capabilities(7), "Effect of user
   * ID changes on capabilities").
   */
  setUids(uid: number, euid: number, suid: number): void {
    const wasRoot = this.uid === 0 || this.euid === 0 || this.suid === 0;
    const oldEuid = this.euid;
    this.uid = uid;
    this.euid = euid;
    this.suid = suid;
    this.fsuid = euid;
    if (wasRoot && uid !== 0 && euid !== 0 && suid !== 0 && !this.keepCaps) {
      this.capPermitted = 0n;
      this.capEffective = 0n;
      this.capAmbient = 0n;
    }
    if (oldEuid === 0 && euid !== 0) this.capEffective = 0n;
    if (oldEuid !== 0 && euid === 0) this.capEffective = this.capPermitted;
  }
}
