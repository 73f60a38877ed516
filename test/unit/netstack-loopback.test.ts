// TCP over the loopback device at its real MTU (65536): segments must still fit IPv4's
// 16-bit total length, so a bulk transfer completes with time driven step by step.

import { describe, expect, it } from 'vitest';
import { isErr } from '../../sentry/abi/result.js';
import { LoopbackLink, Stack } from '../../sentry/netstack/index.js';

describe('loopback at MTU 65536', () => {
  it('moves 4 MiB intact and keeps segments within 65535 bytes', () => {
    const st = new Stack({ random: () => 0.5 });
    const lo = st.addNic(new LoopbackLink(65536), 'lo');
    st.addAddress(lo, '127.0.0.1', 8);
    const l = st.newTcpEndpoint();
    expect(l.bind(0x7f000001, 8080)).toBeUndefined();
    expect(l.listen(4)).toBeUndefined();
    const c = st.newTcpEndpoint();
    expect(c.connect(0x7f000001, 8080)).toBeUndefined();
    const s = l.accept();
    if (isErr(s)) throw new Error('no connection');
    expect(c.info().sndMss).toBeLessThanOrEqual(65535 - 40);
    const total = 4 << 20;
    const src = new Uint8Array(total).map((_, i) => (i * 13) & 0xff);
    let sent = 0;
    const got: Uint8Array[] = [];
    let received = 0;
    let now = 0;
    for (let step = 0; step < 100_000 && received < total; step++) {
      if (sent < total) {
        const n = c.send(src.subarray(sent, Math.min(total, sent + 65536)));
        if (!isErr(n)) sent += n;
      }
      const d = s.recv(1 << 20);
      if (!isErr(d) && d.length > 0) {
        got.push(d);
        received += d.length;
      }
      now += 1;
      st.tick(now);
    }
    expect(received).toBe(total);
    expect(Buffer.concat(got).equals(Buffer.from(src))).toBe(true);
    expect(st.stats.ipMalformed).toBe(0);
  });

  it('an application-limited sender keeps its initial congestion window (RFC 7661)', () => {
    const st = new Stack({ random: () => 0.5 });
    const lo = st.addNic(new LoopbackLink(65536), 'lo');
    st.addAddress(lo, '127.0.0.1', 8);
    const l = st.newTcpEndpoint();
    l.bind(0x7f000001, 8081);
    l.listen(4);
    const c = st.newTcpEndpoint();
    c.connect(0x7f000001, 8081);
    const s = l.accept();
    if (isErr(s)) throw new Error('no connection');
    const initial = c.info().cwnd;
    for (let now = 1; now <= 2000; now++) {
      expect(c.send(new Uint8Array(100))).toBe(100);
      s.recv(1 << 16);
      st.tick(now);
    }
    expect(c.info().cwnd).toBe(initial);
  });
});
