// config.json's mounts as the Sentry builds them (see sentry/control/oci_root.ts). Host
// files are read here, by the runtime, so the Sentry never opens a host path for them.

import { readFileSync, statSync } from 'node:fs';
import type { RootMount } from '../../sentry/control/oci_root.js';
import type { OciConfig } from './spec.js';

/** Turns config.json's mounts into what the Sentry builds (see sentry/control/oci_root.ts). */
export function planMounts(cfg: OciConfig, log: (line: string) => void): RootMount[] | string {
  const plan: RootMount[] = [];
  for (const [i, m] of cfg.mounts.entries()) {
    const where = `mounts[${i}] (${m.destination})`;
    if (m.type === 'bind') {
      let st;
      try {
        st = statSync(m.source);
      } catch (e) {
        return `${where}: cannot use ${m.source}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`;
      }
      if (m.destination === '/dev/shm') {
        // Shared memory lives in the Sentry: the host's shm folder would share nothing.
        plan.push({ kind: 'tmpfs', destination: m.destination });
      } else if (st.isDirectory()) {
        plan.push({ kind: 'dir', source: m.source, destination: m.destination, readOnly: m.options.includes('ro') || m.options.includes('rro') });
      } else if (st.isFile()) {
        try {
          plan.push({ kind: 'file', data: readFileSync(m.source), mode: st.mode, destination: m.destination });
        } catch (e) {
          return `${where}: cannot read ${m.source}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`;
        }
      } else {
        return `${where}: cannot bind-mount ${m.source}: only directories and regular files can be`;
      }
    } else if (m.type === 'tmpfs' && m.destination !== '/dev') {
      const size = m.options.find((o) => o.startsWith('size='))?.slice(5);
      const bytes = size === undefined ? undefined : parseSize(size);
      if (size !== undefined && bytes === undefined) return `${where}: bad size "${size}"`;
      plan.push({ kind: 'tmpfs', destination: m.destination, sizeBytes: bytes });
    } else if (m.type === 'mqueue') {
      plan.push({ kind: 'mqueue', destination: m.destination });
    } else {
      const builtin = ['/proc', '/sys', '/dev', '/dev/pts'].includes(m.destination);
      log(`${where}: ${m.type} ${builtin ? 'is provided by the Sentry' : 'is not available in the sandbox yet; skipped'}`);
    }
  }
  return plan;
}

/** tmpfs sizes: bytes, or with a k/m/g suffix. */
function parseSize(s: string): number | undefined {
  const m = /^(\d+)([kmg]?)$/i.exec(s);
  if (m === null) return undefined;
  return Number(m[1]) * ({ '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g']);
}
