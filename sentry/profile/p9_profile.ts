// --profile's 9P column: how long the Sentry waited on the Gofer per message kind. The
// client's request() is wrapped only while a profile is active, so the 9P client itself
// carries no profiling code and pays nothing when profiling is off.

import { P9Client } from '../../gofer/p9/client.js';
import type { Request } from '../../gofer/p9/messages.js';

export interface P9Stat {
  count: number;
  /** Request sent → reply decoded (queueing, the Gofer's work and both socket hops). */
  totalNs: number;
}

export class P9Profile {
  readonly stats = new Map<string, P9Stat>();

  record(kind: string, ns: number): void {
    const st = this.stats.get(kind) ?? { count: 0, totalNs: 0 };
    st.count++;
    st.totalNs += ns;
    this.stats.set(kind, st);
  }

  /** Starts timing every P9Client request; the returned function stops it. */
  attach(clock: () => number = () => performance.now() * 1e6): () => void {
    const proto = P9Client.prototype;
    const original = proto.request;
    const record = (kind: string, ns: number): void => this.record(kind, ns);
    const timed = function (this: P9Client, msg: Request, signal?: AbortSignal): ReturnType<typeof original> {
      const t0 = clock();
      const reply = original.call(this, msg, signal);
      void reply.then(() => record(msg.kind, clock() - t0));
      return reply;
    };
    proto.request = timed as typeof original;
    return () => {
      proto.request = original;
    };
  }

  /** Report lines, most total time first; empty when no 9P traffic happened. */
  report(): string[] {
    if (this.stats.size === 0) return [];
    let count = 0;
    let total = 0;
    for (const st of this.stats.values()) {
      count += st.count;
      total += st.totalNs;
    }
    const rows = [...this.stats.entries()].sort((a, b) => b[1].totalNs - a[1].totalNs);
    return [
      `9P to the Gofer: ${count} requests, ${(total / 1e6).toFixed(2)} ms waiting (part of the handler times above)`,
      ...rows.map(([kind, st]) => `  ${kind.padEnd(12)} ${String(st.count).padStart(7)} ${(st.totalNs / 1e6).toFixed(2).padStart(10)} ms ${(st.totalNs / st.count / 1e3).toFixed(1).padStart(9)} us avg`),
    ];
  }
}
