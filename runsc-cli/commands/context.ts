// What every OCI command gets: the global flags, the state store and the logger.

import { Logger } from '../oci/log.js';
import { StateStore } from '../oci/state.js';

export interface GlobalFlags {
  root: string;
  log?: string;
  logFormat: 'text' | 'json';
  debug: boolean;
  debugLog?: string;
  systemdCgroup: boolean;
  strace: boolean;
  /** --network: sandbox (default; the Sentry's own stack), none, or host (hostinet: host sockets driven by the Sentry). */
  network: string;
  /** The global flags as given, to pass on to processes we re-spawn (sandbox, detached exec). */
  argv: string[];
}

export interface Ctx {
  g: GlobalFlags;
  store: StateStore;
  log: Logger;
}

/** The CLI's own entry point, for re-spawning it (the sandbox process, a detached exec). */
export function selfCommand(): { file: string; args: string[] } {
  return { file: process.execPath, args: [...process.execArgv, process.argv[1]] };
}

export class CommandError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}
