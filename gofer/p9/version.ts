// Server side of Tversion (version(5)): pick the msize and say whether we speak the
// client's dialect. A server answers Rversion with these values in every case.

import { MIN_MSIZE, VERSION_9P2000_L, VERSION_UNKNOWN } from './constants.js';
import type { Tversion } from './messages.js';

export interface VersionDecision {
  /** True when the session may proceed; false means reply "unknown" and expect a new Tversion. */
  ok: boolean;
  msize: number;
  version: string;
}

/**
 * Decide the Rversion for `t` given the server's largest frame. "9P2000.L" and dotted
 * extensions of it ("9P2000.L.x") are answered "9P2000.L"; anything else, or an msize too
 * small to carry a header and a name, is answered "unknown".
 */
export function negotiateVersion(t: Tversion, serverMaxMsize: number): VersionDecision {
  const msize = Math.min(t.msize, serverMaxMsize);
  const speaks = t.version === VERSION_9P2000_L || t.version.startsWith(VERSION_9P2000_L + '.');
  if (!speaks || msize < MIN_MSIZE) return { ok: false, msize, version: VERSION_UNKNOWN };
  return { ok: true, msize, version: VERSION_9P2000_L };
}
