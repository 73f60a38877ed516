// UTS namespaces: the host and domain names uname(2) reports, per namespace.

export interface UtsName {
  sysname: string;
  nodename: string;
  release: string;
  version: string;
  machine: string;
  domainname: string;
}

/** __NEW_UTS_LEN: the longest host or domain name sethostname/setdomainname accept. */
export const UTS_NAME_LEN = 64;

export class UtsNamespace {
  readonly kind = 'uts' as const;
  constructor(readonly ino: number, readonly name: UtsName) {}

  /** unshare/clone(CLONE_NEWUTS): a new namespace starting with a copy of the names. */
  copy(ino: number): UtsNamespace {
    return new UtsNamespace(ino, { ...this.name });
  }
}
