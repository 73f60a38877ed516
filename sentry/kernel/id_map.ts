// The sandbox's user namespace mappings (OCI linux.uidMappings/gidMappings), as
// /proc/[pid]/uid_map and gid_map show them. Ids outside a mapping are unmapped: set*id
// to one fails with EINVAL, as in a Linux user namespace.

export interface IdMapping {
  /** First id inside the sandbox. */
  inside: number;
  /** The id it stands for outside (on the host). */
  outside: number;
  size: number;
}

const ALL: IdMapping[] = [{ inside: 0, outside: 0, size: 4294967295 }];

export class IdMaps {
  /** No user namespace configured: every id maps to itself, as in the initial namespace. */
  constructor(readonly uid: readonly IdMapping[] = ALL, readonly gid: readonly IdMapping[] = ALL) {}

  mapsUid(id: number): boolean {
    return covers(this.uid, id);
  }

  mapsGid(id: number): boolean {
    return covers(this.gid, id);
  }
}

function covers(maps: readonly IdMapping[], id: number): boolean {
  return maps.some((m) => id >= m.inside && id - m.inside < m.size);
}

/** A map file's text: "inside outside size" per line, columns right-aligned as Linux prints them. */
export function formatIdMap(maps: readonly IdMapping[]): string {
  return maps.map((m) => `${String(m.inside).padStart(10)} ${String(m.outside).padStart(10)} ${String(m.size).padStart(10)}\n`).join('');
}
