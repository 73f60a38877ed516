// A task's identity inside the sandbox (its user namespace view).

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
  ) {}
  clone(): Credentials {
    return new Credentials(this.uid, this.gid, this.euid, this.egid, this.suid, this.sgid,
      this.fsuid, this.fsgid, [...this.groups]);
  }
}
