import { describe, expect, it } from 'vitest';
import { P9Client } from '../../gofer/p9/client.js';
import { P9Profile } from '../../sentry/profile/p9_profile.js';
import { FAULT_ROW, SyscallProfile } from '../../sentry/profile/syscall_profile.js';

describe('syscall profile', () => {
  it('splits each syscall into handler time and time outside the Sentry', () => {
    let now = 0;
    const p = new SyscallProfile(() => now);
    const task = {};
    now = 1000;
    p.enter(task, 39); // first trap: no previous resume, so no outside time
    now = 1500;
    p.exit(task);
    now = 21500; // 20 us in the app and the trap round trip
    p.enter(task, 39);
    now = 22500;
    p.exit(task);
    now = 30000;
    p.fault(task);
    now = 32000; // the kernel mapped the page
    p.exit(task);
    now = 40000;
    p.enter(task, 0);
    now = 90000; // a read that parked for 50 us
    p.exit(task);
    const getppid = p.stats.get(39);
    expect(getppid).toEqual({ count: 2, handlerNs: 1500, maxHandlerNs: 1000, outsideNs: 20000 });
    expect(p.stats.get(FAULT_ROW)).toEqual({ count: 1, handlerNs: 2000, maxHandlerNs: 2000, outsideNs: 7500 });
    expect(p.stats.get(0)).toEqual({ count: 1, handlerNs: 50000, maxHandlerNs: 50000, outsideNs: 8000 });
  });

  it('keeps tasks apart and ignores an exit without an enter', () => {
    let now = 0;
    const p = new SyscallProfile(() => now);
    const a = {};
    const b = {};
    p.enter(a, 1);
    now = 10;
    p.enter(b, 1);
    now = 30;
    p.exit(a);
    p.exit(b);
    p.exit(b);
    expect(p.stats.get(1)).toEqual({ count: 2, handlerNs: 50, maxHandlerNs: 30, outsideNs: 0 });
  });

  it('reports totals and rows sorted by total time, with names', () => {
    let now = 0;
    const p = new SyscallProfile(() => now);
    const t = {};
    for (let i = 0; i < 3; i++) {
      p.enter(t, 39);
      now += 1000;
      p.exit(t);
      now += 2000;
    }
    p.enter(t, 60);
    now += 100_000;
    p.exit(t);
    const names: (string | undefined)[] = [];
    names[39] = 'getppid';
    names[60] = 'exit';
    const lines = p.report(names);
    expect(lines[0]).toMatch(/^tsvisor profile: 0.00 ms from process start to boot, then wall 0.11 ms; /);
    expect(lines[1]).toBe('traps: 4 syscalls, 0 faults; time in handlers 0.10 ms (includes parked waits), outside the Sentry 0.01 ms (app code + trap round trips)');
    expect(lines[3].split(/\s+/)).toEqual(['exit', '1', '0.10', '100.0', '100.0', '0.00', '2.0']);
    expect(lines[4].split(/\s+/)).toEqual(['getppid', '3', '0.00', '1.0', '1.0', '0.00', '1.3']);
  });
});

describe('9P profile', () => {
  it('times each request by message kind while attached, and restores the client after', async () => {
    const proto = P9Client.prototype;
    const real = proto.request;
    let resolveReply: (v: undefined) => void = () => {};
    const fake = function (): Promise<undefined> {
      return new Promise((res) => (resolveReply = res));
    } as unknown as typeof real;
    proto.request = fake;
    try {
      let now = 0;
      const p9 = new P9Profile();
      const detach = p9.attach(() => now);
      const client = Object.create(proto) as P9Client;
      const reply = client.request({ kind: 'Tclunk', fid: 7 });
      now = 2500;
      resolveReply(undefined);
      await reply;
      await Promise.resolve();
      detach();
      expect(proto.request).toBe(fake);
      expect(p9.stats.get('Tclunk')).toEqual({ count: 1, totalNs: 2500 });
      p9.record('Treaddir', 1_000_000);
      const lines = p9.report();
      expect(lines[0]).toBe('9P to the Gofer: 2 requests, 1.00 ms waiting (part of the handler times above)');
      expect(lines[1].split(/\s+/)).toEqual(['', 'Treaddir', '1', '1.00', 'ms', '1000.0', 'us', 'avg']);
      expect(new P9Profile().report()).toEqual([]);
    } finally {
      proto.request = real;
    }
  });
});
