// Signals as engines send them to `kill`: numbers (9), names (KILL) or SIG-names (SIGKILL).

import { SIG } from '../../sentry/kernel/signals.js';

export function parseSignal(s: string): number | undefined {
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    return n >= 1 && n <= 64 ? n : undefined;
  }
  const up = s.toUpperCase();
  const name = up.startsWith('SIG') ? up : `SIG${up}`;
  const rt = /^SIGRTMIN(?:\+(\d+))?$/.exec(name);
  if (rt !== null) {
    const n = 34 + Number(rt[1] ?? 0);
    return n <= 64 ? n : undefined;
  }
  if (name === 'SIGIOT') return 6;
  if (name === 'SIGPOLL') return 29;
  const n = SIG[name];
  return typeof n === 'number' ? n : undefined;
}
