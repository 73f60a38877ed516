import { test, expect } from 'vitest';
import { Stack } from '../../sentry/netstack/stack.js';
import { LoopbackLink } from '../../sentry/netstack/link/loopback.js';
import { parseIPv4 } from '../../sentry/netstack/addr.js';
import { isErr } from '../../sentry/abi/result.js';
import { TwoHosts, A_IP, B_IP } from '../../sentry/netstack/testing/sim.js';

test('loopback smoke', () => {
  const s = new Stack();
  const lo = s.addNic(new LoopbackLink());
  s.addAddress(lo, '127.0.0.1', 8);
  const l = s.newTcpEndpoint();
  expect(l.bind(0, 8080)).toBeUndefined();
  expect(l.listen(5)).toBeUndefined();
  const c = s.newTcpEndpoint();
  expect(c.connect(parseIPv4('127.0.0.1')!, 8080)).toBeUndefined();
  console.log(c.state, l.listenQueues());
  const a = l.accept();
  expect(isErr(a)).toBe(false);
  if (isErr(a)) return;
  console.log(a.state, c.state);
  expect(c.send(new TextEncoder().encode('hello'))).toBe(5);
  const r = a.recv(100);
  console.log(r, s.stats, s.internalErrors);
});

test('wire smoke', () => {
  const h = new TwoHosts(7, { lossRate: 0.02, latencyMs: 5 });
  const l = h.b.newTcpEndpoint();
  l.bind(0, 80); l.listen(5);
  const c = h.a.newTcpEndpoint();
  c.connect(B_IP, 80);
  let srv: any = null;
  h.runUntil(() => { const x = l.accept(); if (!isErr(x)) srv = x; return srv !== null; }, 10000);
  console.log(c.state, srv?.state, h.now);
  const N = 1 << 20;
  const data = new Uint8Array(N); for (let i = 0; i < N; i++) data[i] = (i * 7) & 0xff;
  let sent = 0; const got: Uint8Array[] = []; let gotN = 0;
  const ok = h.runUntil(() => {
    if (sent < N) { const r = c.send(data.subarray(sent)); if (!isErr(r)) sent += r; }
    for (;;) { const r = srv.recv(65536); if (isErr(r) || r.length === 0) break; got.push(r); gotN += r.length; }
    return gotN >= N;
  }, 600000);
  console.log(ok, gotN, h.now, c.info(), h.a.stats.tcpRetransmits, h.a.stats.tcpFastRetransmits, h.a.stats.tcpTimeouts, h.a.internalErrors, h.b.internalErrors);
});
