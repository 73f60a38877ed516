// The TCP state machine driven one segment at a time by a scripted peer and a virtual clock.

import { describe, expect, test } from 'vitest';
import { E } from '../../sentry/abi/errno.js';
import { isErr, type Result } from '../../sentry/abi/result.js';
import { EV_ERR, EV_HUP, EV_IN, EV_OUT, EV_RDHUP } from '../../sentry/netstack/events.js';
import { IPPROTO_TCP } from '../../sentry/netstack/ipv4.js';
import type { TcpEndpoint } from '../../sentry/netstack/tcp/endpoint.js';
import { SHUT_WR } from '../../sentry/netstack/tcp/endpoint.js';
import type { TcpConfig } from '../../sentry/netstack/tcp/protocol.js';
import { ACK, FIN, PSH, RST, SYN, buildTcp, type TcpOptions, type TcpSegment } from '../../sentry/netstack/tcp/segment.js';
import { PEER_IP, STACK_IP, TcpPeer, ipFrame, makeHarness, type Harness } from '../../sentry/netstack/testing/peer.js';

const PEER_ISS = 5000;
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

function ok<T>(r: Result<T>): T {
  if (isErr(r)) throw new Error(`unexpected errno ${r.errno}`);
  return r;
}

function errno<T>(r: Result<T>): number | undefined {
  return isErr(r) ? r.errno : undefined;
}

function advance(h: Harness, ms: number): void {
  h.stack.tick(h.stack.now + ms);
}

interface Conn {
  h: Harness;
  p: TcpPeer;
  ep: TcpEndpoint;
  /** Next sequence number the peer will send. */
  peerSeq: number;
  /** Next sequence number we expect from the stack. */
  stackSeq: number;
  listener?: TcpEndpoint;
}

/** A connection accepted by the stack from the scripted peer (no TS/SACK/WS unless asked). */
function passive(peerOptions: TcpOptions = { mss: 1460 }, cfg: Partial<TcpConfig> = {}, window = 65535): Conn {
  const h = makeHarness({ tcp: cfg });
  const l = h.stack.newTcpEndpoint();
  ok(l.bind(0, 80));
  ok(l.listen(8));
  const p = new TcpPeer(h, 40000);
  p.send({ dstPort: 80, seq: PEER_ISS, ack: 0, flags: SYN, window, options: peerOptions });
  const [sa] = p.recv();
  p.send({
    dstPort: 80,
    seq: PEER_ISS + 1,
    ack: sa.seq + 1,
    flags: ACK,
    window,
    options: peerOptions.tsVal !== undefined ? { tsVal: peerOptions.tsVal + 1, tsEcr: sa.options.tsVal } : {},
  });
  const ep = ok(l.accept());
  return { h, p, ep, peerSeq: PEER_ISS + 1, stackSeq: (sa.seq + 1) >>> 0, listener: l };
}

/** A connection the stack opened to the scripted peer. */
function active(cfg: Partial<TcpConfig> = {}): Conn {
  const h = makeHarness({ tcp: cfg });
  const ep = h.stack.newTcpEndpoint();
  ok(ep.connect(PEER_IP, 80));
  const [syn] = new TcpPeer(h, 80).recv();
  const p = new TcpPeer(h, 80);
  const port = syn.srcPort;
  const send = p.send.bind(p);
  p.send = (s) => send({ ...s, dstPort: s.dstPort ?? port });
  p.send({ dstPort: port, seq: PEER_ISS, ack: syn.seq + 1, flags: SYN | ACK, window: 65535, options: { mss: 1460 } });
  p.recv();
  return { h, p, ep, peerSeq: PEER_ISS + 1, stackSeq: (syn.seq + 1) >>> 0 };
}

/** The port the stack uses for this connection. */
function port(c: Conn): number {
  return c.ep.localAddress().port;
}

function peerSend(c: Conn, flags: number, data: Uint8Array = new Uint8Array(0), extra: { window?: number; ack?: number; seq?: number; options?: TcpOptions } = {}): void {
  c.p.send({
    dstPort: port(c),
    seq: extra.seq ?? c.peerSeq,
    ack: extra.ack ?? c.stackSeq,
    flags,
    window: extra.window ?? 65535,
    payload: data,
    options: extra.options,
  });
  if (extra.seq === undefined) c.peerSeq = (c.peerSeq + data.length + (flags & (SYN | FIN) ? 1 : 0)) >>> 0;
}

describe('handshake', () => {
  test('passive open negotiates MSS, window scale, timestamps and SACK', () => {
    const h = makeHarness();
    const l = h.stack.newTcpEndpoint();
    ok(l.bind(0, 80));
    ok(l.listen(4));
    expect(l.readiness()).toBe(0);
    const p = new TcpPeer(h, 40000);
    p.send({ dstPort: 80, seq: PEER_ISS, ack: 0, flags: SYN, window: 29200, options: { mss: 1000, wscale: 2, sackPermitted: true, tsVal: 777, tsEcr: 0 } });
    const segs = p.recv();
    expect(segs).toHaveLength(1);
    const sa = segs[0];
    expect(sa.flags).toBe(SYN | ACK);
    expect(sa.ack).toBe(PEER_ISS + 1);
    expect(sa.options.mss).toBe(1460); // our link MTU 1500 - 40
    expect(sa.options.wscale).toBe(3); // 256 KiB buffer needs shift 3
    expect(sa.options.sackPermitted).toBe(true);
    expect(sa.options.tsEcr).toBe(777);
    expect(l.listenQueues()).toEqual({ syn: 1, accept: 0, backlog: 4 });
    expect(errno(l.accept())).toBe(E.EAGAIN);

    p.send({ dstPort: 80, seq: PEER_ISS + 1, ack: sa.seq + 1, flags: ACK, window: 1000, options: { tsVal: 778, tsEcr: sa.options.tsVal } });
    expect(l.readiness() & EV_IN).toBe(EV_IN);
    const ep = ok(l.accept());
    expect(ep.state).toBe('ESTABLISHED');
    const info = ep.info();
    expect(info.sndMss).toBe(1000 - 12); // clamped to the peer's MSS, less the timestamp option
    expect(info.sndWnd).toBe(4000); // 1000 << 2
    expect(info.timestamps && info.sack).toBe(true);
    expect(ep.remoteAddress()).toEqual({ addr: PEER_IP, port: 40000 });
    expect(ep.localAddress()).toEqual({ addr: STACK_IP, port: 80 });
    expect(ep.readiness()).toBe(EV_OUT);
  });

  test('active open: SYN, SYN-ACK, ACK, then writable', () => {
    const h = makeHarness();
    const ep = h.stack.newTcpEndpoint();
    const events: number[] = [];
    ep.subscribe((m) => events.push(m));
    ok(ep.connect(PEER_IP, 80));
    expect(ep.state).toBe('SYN_SENT');
    expect(errno(ep.connect(PEER_IP, 80))).toBe(E.EALREADY);
    const p = new TcpPeer(h, 80);
    const [syn] = p.recv();
    expect(syn.flags).toBe(SYN);
    expect(syn.options.mss).toBe(1460);
    expect(syn.options.sackPermitted).toBe(true);
    expect(syn.options.tsVal).toBeDefined();
    expect(syn.srcPort).toBeGreaterThanOrEqual(32768);
    expect(ep.readiness() & EV_OUT).toBe(0);
    p.send({ dstPort: syn.srcPort, seq: PEER_ISS, ack: syn.seq + 1, flags: SYN | ACK, window: 65535, options: { mss: 1460 } });
    const [ack] = p.recv();
    expect(ack.flags).toBe(ACK);
    expect(ack.seq).toBe((syn.seq + 1) >>> 0);
    expect(ack.ack).toBe(PEER_ISS + 1);
    expect(ack.options.tsVal).toBeUndefined(); // the peer did not offer timestamps
    expect(ep.state).toBe('ESTABLISHED');
    expect(events.at(-1)! & EV_OUT).toBe(EV_OUT);
    expect(errno(ep.connect(PEER_IP, 80))).toBe(E.EISCONN);
  });

  test('a retransmitted SYN-ACK (our ACK was lost) is ACKed again', () => {
    const c = active();
    expect(c.ep.state).toBe('ESTABLISHED');
    peerSend(c, SYN | ACK, undefined, { seq: PEER_ISS, options: { mss: 1460 } });
    const segs = c.p.recv();
    expect(segs).toHaveLength(1);
    expect(segs[0].flags).toBe(ACK);
    expect(segs[0].ack).toBe(PEER_ISS + 1);
    expect(c.ep.state).toBe('ESTABLISHED');
  });

  test('SYN is retransmitted with backoff and the connect times out', () => {
    const h = makeHarness({ tcp: { synRetries: 2 } });
    const ep = h.stack.newTcpEndpoint();
    ok(ep.connect(PEER_IP, 80));
    const p = new TcpPeer(h, 80);
    expect(p.recv()).toHaveLength(1);
    advance(h, 999);
    expect(p.recv()).toHaveLength(0);
    advance(h, 1);
    expect(p.recv().map((s) => s.flags)).toEqual([SYN]); // at 1 s
    advance(h, 1999);
    expect(p.recv()).toHaveLength(0);
    advance(h, 1);
    expect(p.recv()).toHaveLength(1); // at 3 s
    advance(h, 4000);
    expect(ep.state).toBe('CLOSED');
    expect(ep.readiness() & EV_ERR).toBe(EV_ERR);
    expect(ep.takeError()?.errno).toBe(E.ETIMEDOUT);
  });

  test('a lost SYN-ACK is resent when the SYN is retransmitted', () => {
    const h = makeHarness();
    const l = h.stack.newTcpEndpoint();
    ok(l.bind(0, 80));
    ok(l.listen(4));
    const p = new TcpPeer(h, 40000);
    p.send({ dstPort: 80, seq: PEER_ISS, ack: 0, flags: SYN, window: 65535 });
    const [sa1] = p.recv();
    p.send({ dstPort: 80, seq: PEER_ISS, ack: 0, flags: SYN, window: 65535 });
    const [sa2] = p.recv();
    expect(sa2.flags).toBe(SYN | ACK);
    expect(sa2.seq).toBe(sa1.seq);
    expect(l.listenQueues().syn).toBe(1);
  });

  test('simultaneous open: SYN crosses SYN', () => {
    const h = makeHarness();
    const ep = h.stack.newTcpEndpoint();
    ok(ep.bind(0, 5555));
    ok(ep.connect(PEER_IP, 6666));
    const p = new TcpPeer(h, 6666);
    const [syn] = p.recv();
    p.send({ dstPort: 5555, seq: PEER_ISS, ack: 0, flags: SYN, window: 65535, options: { mss: 1400 } });
    const [sa] = p.recv();
    expect(ep.state).toBe('SYN_RECEIVED');
    expect(sa.flags).toBe(SYN | ACK);
    expect(sa.seq).toBe(syn.seq);
    expect(sa.ack).toBe(PEER_ISS + 1);
    // The peer's own SYN,ACK (it saw our SYN): same ISS, acking ours.
    p.send({ dstPort: 5555, seq: PEER_ISS, ack: syn.seq + 1, flags: SYN | ACK, window: 65535, options: { mss: 1400 } });
    expect(ep.state).toBe('ESTABLISHED');
    expect(ep.info().sndMss).toBe(1400);
    ok(ep.send(enc('x')));
    const [d] = p.recv();
    expect(dec(d.payload)).toBe('x');
    expect(d.ack).toBe(PEER_ISS + 1);
  });

  test('backlog: a SYN flood is bounded and an honest client still connects', () => {
    const h = makeHarness();
    const l = h.stack.newTcpEndpoint();
    ok(l.bind(0, 80));
    ok(l.listen(2));
    for (let i = 0; i < 300; i++) new TcpPeer(h, 1000 + i).send({ dstPort: 80, seq: i * 1000, ack: 0, flags: SYN, window: 1024 });
    expect(l.listenQueues().syn).toBeLessThanOrEqual(8);
    expect(h.stack.stats.tcpSynQueueFull).toBeGreaterThan(0);
    expect(h.stack.tcp.connectionCount).toBeLessThanOrEqual(8);
    h.link.drain();
    const p = new TcpPeer(h, 40000);
    p.send({ dstPort: 80, seq: 1, ack: 0, flags: SYN, window: 65535 });
    const [sa] = p.recv();
    p.send({ dstPort: 80, seq: 2, ack: sa.seq + 1, flags: ACK, window: 65535 });
    const ep = ok(l.accept());
    expect(ep.remoteAddress()?.port).toBe(40000);
    // Half-open flood entries expire after their SYN-ACK retries (1+2+4+8+16+32 s).
    advance(h, 130_000);
    expect(l.listenQueues().syn).toBe(0);
  });

  test('accept queue full: the final ACK is dropped until accept() makes room', () => {
    const h = makeHarness();
    const l = h.stack.newTcpEndpoint();
    ok(l.bind(0, 80));
    ok(l.listen(1));
    const peers = [new TcpPeer(h, 41000), new TcpPeer(h, 41001)];
    peers[0].send({ dstPort: 80, seq: 10, ack: 0, flags: SYN, window: 65535 });
    const [sa0] = peers[0].recv();
    peers[0].send({ dstPort: 80, seq: 11, ack: sa0.seq + 1, flags: ACK, window: 65535 });
    expect(l.listenQueues().accept).toBe(1);
    peers[1].send({ dstPort: 80, seq: 20, ack: 0, flags: SYN, window: 65535 });
    expect(peers[1].recv()).toHaveLength(0); // accept queue full: SYN dropped
    expect(h.stack.stats.tcpAcceptQueueFull).toBe(1);
    ok(l.accept());
    peers[1].send({ dstPort: 80, seq: 20, ack: 0, flags: SYN, window: 65535 });
    const [sa1] = peers[1].recv();
    peers[1].send({ dstPort: 80, seq: 21, ack: sa1.seq + 1, flags: ACK, window: 65535 });
    expect(ok(l.accept()).remoteAddress()?.port).toBe(41001);
  });
});

describe('data transfer', () => {
  test('peer to stack: delayed ACK after 40 ms, immediate ACK every second segment', () => {
    const c = passive();
    const events: number[] = [];
    c.ep.subscribe((m) => events.push(m));
    peerSend(c, ACK | PSH, enc('hello'));
    expect(c.ep.readiness() & EV_IN).toBe(EV_IN);
    expect(events.some((m) => m & EV_IN)).toBe(true);
    expect(c.p.recv()).toHaveLength(0); // ACK delayed
    advance(c.h, 39);
    expect(c.p.recv()).toHaveLength(0);
    advance(c.h, 1);
    const [a] = c.p.recv();
    expect(a.flags).toBe(ACK);
    expect(a.ack).toBe(c.peerSeq);
    expect(dec(ok(c.ep.recv(100)))).toBe('hello');
    expect(errno(c.ep.recv(100))).toBe(E.EAGAIN);

    peerSend(c, ACK, new Uint8Array(1460).fill(1));
    expect(c.p.recv()).toHaveLength(0);
    peerSend(c, ACK, new Uint8Array(1460).fill(2));
    const acks = c.p.recv();
    expect(acks).toHaveLength(1);
    expect(acks[0].ack).toBe(c.peerSeq);
    const got = ok(c.ep.recv(10_000));
    expect(got.length).toBe(2920);
    expect(got[0]).toBe(1);
    expect(got[2919]).toBe(2);
  });

  test('stack to peer: segments of MSS size, ACKs free the send buffer', () => {
    const c = passive({ mss: 1000 });
    c.ep.setNoDelay(true);
    const data = new Uint8Array(2500).map((_, i) => i & 0xff);
    expect(ok(c.ep.send(data))).toBe(2500);
    const segs = c.p.recv();
    expect(segs.map((s) => s.payload.length)).toEqual([1000, 1000, 500]);
    expect(segs.map((s) => s.seq)).toEqual([c.stackSeq, c.stackSeq + 1000, c.stackSeq + 2000]);
    expect(segs[2].flags & PSH).toBe(PSH);
    expect(c.ep.unsentBytes()).toBe(2500);
    peerSend(c, ACK, undefined, { ack: c.stackSeq + 2000 });
    expect(c.ep.unsentBytes()).toBe(500);
    peerSend(c, ACK, undefined, { ack: c.stackSeq + 2500 });
    expect(c.ep.unsentBytes()).toBe(0);
    expect(c.ep.info().unacked).toBe(0);
  });

  test('Nagle holds a small segment while data is unacknowledged; TCP_NODELAY does not', () => {
    const c = passive();
    ok(c.ep.send(enc('a')));
    expect(c.p.recv().map((s) => dec(s.payload))).toEqual(['a']);
    ok(c.ep.send(enc('b')));
    ok(c.ep.send(enc('c')));
    expect(c.p.recv()).toHaveLength(0);
    peerSend(c, ACK, undefined, { ack: c.stackSeq + 1 });
    expect(c.p.recv().map((s) => dec(s.payload))).toEqual(['bc']);
    c.ep.setNoDelay(true);
    ok(c.ep.send(enc('d')));
    expect(c.p.recv().map((s) => dec(s.payload))).toEqual(['d']);
  });

  test('send buffer full gives EAGAIN and EV_OUT returns when ACKed', () => {
    const c = passive({ mss: 1460 }, { sndBufSize: 4096 });
    c.ep.setNoDelay(true);
    expect(ok(c.ep.send(new Uint8Array(10_000)))).toBe(4096);
    expect(errno(c.ep.send(new Uint8Array(1)))).toBe(E.EAGAIN);
    expect(c.ep.readiness() & EV_OUT).toBe(0);
    c.p.recv();
    peerSend(c, ACK, undefined, { ack: c.stackSeq + 4096 });
    expect(c.ep.readiness() & EV_OUT).toBe(EV_OUT);
  });

  test('receive window shrinks as data queues and a window update follows the read', () => {
    const c = passive({ mss: 1000 }, { rcvBufSize: 4000 });
    for (let i = 0; i < 4; i++) peerSend(c, ACK, new Uint8Array(1000).fill(i));
    const acks = c.p.recv();
    expect(acks.at(-1)!.ack).toBe(c.peerSeq);
    expect(acks.at(-1)!.window).toBe(0);
    // Data beyond a zero window is not accepted; the reply re-advertises zero.
    peerSend(c, ACK, new Uint8Array(10).fill(9), { seq: c.peerSeq });
    const [z] = c.p.recv();
    expect(z.ack).toBe(c.peerSeq);
    expect(z.window).toBe(0);
    expect(ok(c.ep.recv(4000)).length).toBe(4000);
    const [upd] = c.p.recv();
    expect(upd.window).toBe(4000);
  });

  test('window scaling applies to the peer window and to ours', () => {
    const c = passive({ mss: 1460, wscale: 4 }, {}, 100);
    expect(c.ep.info().sndWnd).toBe(1600);
    expect(c.ep.info().rcvWscale).toBe(3);
    peerSend(c, ACK, enc('x'));
    advance(c.h, 40);
    const [a] = c.p.recv();
    expect(a.window).toBe(32768); // (256 KiB - 1 queued byte) >> 3, rounded up
  });

  test('PAWS drops a segment with an old timestamp', () => {
    const c = passive({ mss: 1460, tsVal: 1000, sackPermitted: true });
    peerSend(c, ACK, enc('new'), { options: { tsVal: 2000, tsEcr: 0 } });
    peerSend(c, ACK, enc('old'), { options: { tsVal: 1500, tsEcr: 0 } });
    expect(dec(ok(c.ep.recv(100)))).toBe('new');
    expect(c.h.stack.stats.tcpOutOfWindow).toBe(1);
  });
});

describe('loss recovery', () => {
  test('RTO fires at the right virtual time and doubles each time', () => {
    const c = passive();
    const rto = c.ep.info().rtoMs;
    expect(rto).toBe(200); // handshake RTT ~0 ms, clamped to the 200 ms minimum
    ok(c.ep.send(enc('data')));
    expect(c.p.recv()).toHaveLength(1);
    const times: number[] = [];
    for (let t = 1; t <= 3200; t++) {
      c.h.stack.tick(t);
      for (const s of c.p.recv()) {
        expect(dec(s.payload)).toBe('data');
        expect(s.seq).toBe(c.stackSeq);
        times.push(t);
      }
    }
    expect(times).toEqual([200, 600, 1400, 3000]);
    expect(c.ep.info().backoff).toBe(4);
    expect(c.h.stack.stats.tcpTimeouts).toBe(4);
    // An ACK resets the retransmission state.
    peerSend(c, ACK, undefined, { ack: c.stackSeq + 4 });
    expect(c.ep.info().unacked).toBe(0);
    expect(c.ep.info().cwnd).toBeGreaterThan(0);
  });

  test('a lost segment in the middle is resent after RTO and delivery completes', () => {
    const c = passive({ mss: 1000 });
    c.ep.setNoDelay(true);
    ok(c.ep.send(new Uint8Array(3000).map((_, i) => i % 251)));
    const segs = c.p.recv();
    expect(segs).toHaveLength(3);
    // Segment 2 is "lost": the peer acks only the first one.
    peerSend(c, ACK, undefined, { ack: c.stackSeq + 1000 });
    c.h.stack.tick(c.h.stack.now + 200);
    const re = c.p.recv();
    expect(re[0].seq).toBe(c.stackSeq + 1000);
    expect(re[0].payload[0]).toBe(1000 % 251);
    peerSend(c, ACK, undefined, { ack: c.stackSeq + 3000 });
    expect(c.ep.info().unacked).toBe(0);
  });

  test('three duplicate ACKs trigger fast retransmit and NewReno recovery', () => {
    const c = passive({ mss: 1000 });
    c.ep.setNoDelay(true);
    ok(c.ep.send(new Uint8Array(6000)));
    const segs = c.p.recv();
    expect(segs).toHaveLength(6);
    const base = c.stackSeq;
    peerSend(c, ACK, undefined, { ack: base + 1000 }); // seg 2 lost
    peerSend(c, ACK, undefined, { ack: base + 1000 });
    peerSend(c, ACK, undefined, { ack: base + 1000 });
    expect(c.p.recv()).toHaveLength(0);
    peerSend(c, ACK, undefined, { ack: base + 1000 }); // third duplicate
    const fr = c.p.recv();
    expect(fr).toHaveLength(1);
    expect(fr[0].seq).toBe(base + 1000);
    expect(c.h.stack.stats.tcpFastRetransmits).toBe(1);
    const inRecovery = c.ep.info();
    expect(inRecovery.ssthresh).toBe(2500); // half of the 5000 bytes in flight
    // Partial ACK (seg 4 also lost): NewReno retransmits it at once.
    peerSend(c, ACK, undefined, { ack: base + 3000 });
    const pr = c.p.recv();
    expect(pr[0].seq).toBe(base + 3000);
    // Full ACK ends recovery with cwnd <= ssthresh.
    peerSend(c, ACK, undefined, { ack: base + 6000 });
    expect(c.ep.info().cwnd).toBeLessThanOrEqual(2500);
    expect(c.ep.info().unacked).toBe(0);
    expect(c.h.stack.stats.tcpTimeouts).toBe(0);
  });

  test('out-of-order segments are held, SACKed, and reassembled in order', () => {
    const c = passive({ mss: 1460, sackPermitted: true });
    const s0 = c.peerSeq;
    const part = (n: number): Uint8Array => new Uint8Array(100).fill(n);
    peerSend(c, ACK, part(2), { seq: s0 + 100 });
    let [a] = c.p.recv();
    expect(a.ack).toBe(s0);
    expect(a.options.sack).toEqual([{ start: s0 + 100, end: s0 + 200 }]);
    peerSend(c, ACK, part(4), { seq: s0 + 300 });
    [a] = c.p.recv();
    expect(a.options.sack).toEqual([
      { start: s0 + 300, end: s0 + 400 },
      { start: s0 + 100, end: s0 + 200 },
    ]);
    peerSend(c, ACK, part(3), { seq: s0 + 200 });
    [a] = c.p.recv();
    expect(a.options.sack).toEqual([{ start: s0 + 100, end: s0 + 400 }]);
    expect(errno(c.ep.recv(1000))).toBe(E.EAGAIN); // nothing readable until the hole fills
    peerSend(c, ACK, part(1), { seq: s0 });
    [a] = c.p.recv();
    expect(a.ack).toBe(s0 + 400);
    expect(a.options.sack).toBeUndefined();
    const got = ok(c.ep.recv(1000));
    expect(got.length).toBe(400);
    expect([got[0], got[100], got[200], got[300]]).toEqual([1, 2, 3, 4]);
  });

  test('zero-window probes back off and data resumes when the window opens', () => {
    const c = passive({ mss: 1000 }, {}, 1000);
    c.ep.setNoDelay(true);
    ok(c.ep.send(new Uint8Array(3000).fill(7)));
    expect(c.p.recv().map((s) => s.payload.length)).toEqual([1000]);
    peerSend(c, ACK, undefined, { ack: c.stackSeq + 1000, window: 0 });
    c.stackSeq += 1000;
    expect(c.p.recv()).toHaveLength(0);
    const probes: number[] = [];
    for (let t = 1; t <= 2000; t++) {
      c.h.stack.tick(c.h.stack.now + 1);
      for (const s of c.p.recv()) {
        expect(s.seq).toBe(c.stackSeq);
        expect(s.payload.length).toBe(1);
        probes.push(c.h.stack.now);
        peerSend(c, ACK, undefined, { window: 0 }); // still closed
      }
    }
    expect(probes.length).toBeGreaterThanOrEqual(3);
    const gaps = probes.slice(1).map((t, i) => t - probes[i]);
    expect(gaps[1]).toBeGreaterThan(gaps[0]);
    expect(c.ep.state).toBe('ESTABLISHED');
    peerSend(c, ACK, undefined, { window: 4000 });
    const rest = c.p.recv();
    expect(rest.reduce((n, s) => n + s.payload.length, 0)).toBe(2000);
  });
});

describe('closing', () => {
  test('active close: FIN_WAIT_1, FIN_WAIT_2, TIME_WAIT, CLOSED after 2MSL', () => {
    const c = passive();
    c.ep.close();
    expect(c.ep.state).toBe('FIN_WAIT_1');
    const [fin] = c.p.recv();
    expect(fin.flags).toBe(FIN | ACK);
    peerSend(c, ACK, undefined, { ack: c.stackSeq + 1 });
    expect(c.ep.state).toBe('FIN_WAIT_2');
    peerSend(c, FIN | ACK, undefined, { ack: c.stackSeq + 1 });
    expect(c.ep.state).toBe('TIME_WAIT');
    const [ack] = c.p.recv();
    expect(ack.ack).toBe(c.peerSeq);
    // A retransmitted FIN in TIME_WAIT is ACKed again and restarts the timer.
    advance(c.h, 30_000);
    peerSend(c, FIN | ACK, undefined, { ack: c.stackSeq + 1, seq: c.peerSeq - 1 });
    expect(c.p.recv()[0].ack).toBe(c.peerSeq);
    advance(c.h, 59_999);
    expect(c.ep.state).toBe('TIME_WAIT');
    advance(c.h, 1);
    expect(c.ep.state).toBe('CLOSED');
    expect(c.h.stack.tcp.connectionCount).toBe(0);
  });

  test('passive close: CLOSE_WAIT, then LAST_ACK, then CLOSED; EOF is read', () => {
    const c = passive();
    peerSend(c, FIN | ACK);
    expect(c.ep.state).toBe('CLOSE_WAIT');
    expect(c.p.recv()[0].ack).toBe(c.peerSeq);
    expect(c.ep.readiness() & (EV_IN | EV_RDHUP)).toBe(EV_IN | EV_RDHUP);
    expect(ok(c.ep.recv(10)).length).toBe(0);
    ok(c.ep.send(enc('bye')));
    c.ep.close();
    expect(c.ep.state).toBe('LAST_ACK');
    const segs = c.p.recv();
    expect(segs.map((s) => s.flags & FIN)).toContain(FIN);
    peerSend(c, ACK, undefined, { ack: c.stackSeq + 4 });
    expect(c.ep.state).toBe('CLOSED');
  });

  test('simultaneous close: CLOSING then TIME_WAIT', () => {
    const c = passive();
    c.ep.close();
    const [fin] = c.p.recv();
    expect(fin.flags & FIN).toBe(FIN);
    // The peer's FIN crosses ours: it does not ack our FIN.
    peerSend(c, FIN | ACK, undefined, { ack: c.stackSeq });
    expect(c.ep.state).toBe('CLOSING');
    expect(c.p.recv()[0].ack).toBe(c.peerSeq);
    peerSend(c, ACK, undefined, { ack: c.stackSeq + 1 });
    expect(c.ep.state).toBe('TIME_WAIT');
  });

  test('half-close: after SHUT_WR the peer can still send', () => {
    const c = passive();
    ok(c.ep.shutdown(SHUT_WR));
    expect(c.p.recv()[0].flags & FIN).toBe(FIN);
    expect(errno(c.ep.send(enc('x')))).toBe(E.EPIPE);
    peerSend(c, ACK | PSH, enc('still here'), { ack: c.stackSeq + 1 });
    expect(c.ep.state).toBe('FIN_WAIT_2');
    expect(dec(ok(c.ep.recv(100)))).toBe('still here');
    peerSend(c, FIN | ACK, undefined, { ack: c.stackSeq + 1 });
    expect(c.ep.readiness() & EV_HUP).toBe(EV_HUP);
    expect(ok(c.ep.recv(100)).length).toBe(0);
  });

  test('close with unread data sends RST (RFC 2525)', () => {
    const c = passive();
    peerSend(c, ACK, enc('unread'));
    c.p.recv();
    c.ep.close();
    const [r] = c.p.recv();
    expect(r.flags & RST).toBe(RST);
    expect(c.ep.state).toBe('CLOSED');
  });

  test('keepalive probes an idle peer and gives up with ETIMEDOUT', () => {
    const c = passive();
    c.ep.opts.keepIdleMs = 10_000;
    c.ep.opts.keepIntvlMs = 1_000;
    c.ep.opts.keepCount = 3;
    c.ep.setKeepAlive(true);
    advance(c.h, 9_999);
    expect(c.p.recv()).toHaveLength(0);
    advance(c.h, 1);
    const [probe] = c.p.recv();
    expect(probe.seq).toBe((c.stackSeq - 1) >>> 0);
    expect(probe.payload.length).toBe(0);
    peerSend(c, ACK); // the peer answers: idle timer restarts
    advance(c.h, 9_999);
    expect(c.p.recv()).toHaveLength(0);
    advance(c.h, 1);
    expect(c.p.recv()).toHaveLength(1);
    advance(c.h, 3_000);
    expect(c.p.recv()).toHaveLength(2);
    expect(c.ep.state).toBe('CLOSED');
    expect(c.ep.takeError()?.errno).toBe(E.ETIMEDOUT);
  });
});

describe('resets', () => {
  test('SYN_SENT: RST with an acceptable ACK refuses; RST without ACK is ignored', () => {
    const h = makeHarness();
    const ep = h.stack.newTcpEndpoint();
    ok(ep.connect(PEER_IP, 80));
    const p = new TcpPeer(h, 80);
    const [syn] = p.recv();
    p.send({ dstPort: syn.srcPort, seq: 0, ack: 0, flags: RST, window: 0 });
    expect(ep.state).toBe('SYN_SENT');
    p.send({ dstPort: syn.srcPort, seq: 0, ack: syn.seq + 5, flags: RST | ACK, window: 0 });
    expect(ep.state).toBe('SYN_SENT'); // unacceptable ACK
    p.send({ dstPort: syn.srcPort, seq: 0, ack: syn.seq + 1, flags: RST | ACK, window: 0 });
    expect(ep.state).toBe('CLOSED');
    expect(ep.readiness() & (EV_ERR | EV_HUP)).toBe(EV_ERR | EV_HUP);
    expect(ep.takeError()?.errno).toBe(E.ECONNREFUSED);
  });

  test('SYN_SENT: a bad ACK without RST is answered with RST', () => {
    const h = makeHarness();
    const ep = h.stack.newTcpEndpoint();
    ok(ep.connect(PEER_IP, 80));
    const p = new TcpPeer(h, 80);
    const [syn] = p.recv();
    p.send({ dstPort: syn.srcPort, seq: 9, ack: syn.seq + 100, flags: SYN | ACK, window: 0 });
    const [r] = p.recv();
    expect(r.flags).toBe(RST);
    expect(r.seq).toBe((syn.seq + 100) >>> 0);
    expect(ep.state).toBe('SYN_SENT');
  });

  test('SYN_RECEIVED: RST drops the half-open connection, the listener stays', () => {
    const h = makeHarness();
    const l = h.stack.newTcpEndpoint();
    ok(l.bind(0, 80));
    ok(l.listen(4));
    const p = new TcpPeer(h, 40000);
    p.send({ dstPort: 80, seq: PEER_ISS, ack: 0, flags: SYN, window: 65535 });
    p.recv();
    p.send({ dstPort: 80, seq: PEER_ISS + 1, ack: 0, flags: RST, window: 0 });
    expect(l.listenQueues().syn).toBe(0);
    expect(l.state).toBe('LISTEN');
    expect(h.stack.tcp.connectionCount).toBe(0);
    // LISTEN ignores RST, and answers a stray ACK with RST.
    p.send({ dstPort: 80, seq: 1, ack: 0, flags: RST, window: 0 });
    expect(p.recv()).toHaveLength(0);
    p.send({ dstPort: 80, seq: 1, ack: 4242, flags: ACK, window: 0 });
    const [r] = p.recv();
    expect(r.flags).toBe(RST);
    expect(r.seq).toBe(4242);
  });

  test.each(['ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2', 'CLOSE_WAIT'] as const)('%s: exact RST resets with ECONNRESET', (state) => {
    const c = passive();
    if (state === 'FIN_WAIT_1' || state === 'FIN_WAIT_2') c.ep.shutdown(SHUT_WR);
    if (state === 'FIN_WAIT_2') peerSend(c, ACK, undefined, { ack: c.stackSeq + 1 });
    if (state === 'CLOSE_WAIT') peerSend(c, FIN | ACK);
    expect(c.ep.state).toBe(state);
    c.p.recv();
    peerSend(c, RST, undefined, { ack: 0 });
    expect(c.ep.state).toBe('CLOSED');
    expect(c.ep.takeError()?.errno).toBe(E.ECONNRESET);
    expect(errno(c.ep.send(enc('x')))).toBe(E.EPIPE);
  });

  test.each(['CLOSING', 'LAST_ACK', 'TIME_WAIT'] as const)('%s: exact RST closes quietly', (state) => {
    const c = passive();
    if (state === 'CLOSING') {
      c.ep.close();
      peerSend(c, FIN | ACK, undefined, { ack: c.stackSeq });
    } else if (state === 'LAST_ACK') {
      peerSend(c, FIN | ACK);
      c.ep.close();
    } else {
      c.ep.close();
      peerSend(c, FIN | ACK, undefined, { ack: c.stackSeq + 1 });
    }
    expect(c.ep.state).toBe(state);
    c.p.recv();
    peerSend(c, RST, undefined, { ack: 0 });
    expect(c.ep.state).toBe('CLOSED');
    expect(c.ep.takeError()).toBeNull();
  });

  test('in-window RST that is not exact gets a challenge ACK (RFC 5961); out-of-window is ignored', () => {
    const c = passive();
    peerSend(c, RST, undefined, { seq: c.peerSeq + 10 });
    expect(c.ep.state).toBe('ESTABLISHED');
    const [ch] = c.p.recv();
    expect(ch.flags).toBe(ACK);
    expect(ch.ack).toBe(c.peerSeq);
    peerSend(c, RST, undefined, { seq: c.peerSeq + 1_000_000 });
    expect(c.ep.state).toBe('ESTABLISHED');
    expect(c.p.recv()).toHaveLength(0);
    expect(c.h.stack.stats.tcpChallengeAcks).toBe(1);
  });

  test('SYN on an established connection gets a challenge ACK', () => {
    const c = passive();
    peerSend(c, SYN, undefined, { seq: c.peerSeq + 5 });
    expect(c.ep.state).toBe('ESTABLISHED');
    expect(c.p.recv()[0].flags).toBe(ACK);
  });

  test('segments to a closed port get RFC 9293 resets', () => {
    const h = makeHarness();
    const p = new TcpPeer(h, 40000);
    p.send({ dstPort: 9, seq: 100, ack: 0, flags: SYN, window: 1000, payload: enc('abc') });
    let [r] = p.recv();
    expect(r.flags).toBe(RST | ACK);
    expect(r.seq).toBe(0);
    expect(r.ack).toBe(104);
    p.send({ dstPort: 9, seq: 100, ack: 777, flags: ACK, window: 1000 });
    [r] = p.recv();
    expect(r.flags).toBe(RST);
    expect(r.seq).toBe(777);
    p.send({ dstPort: 9, seq: 100, ack: 777, flags: RST, window: 1000 });
    expect(p.recv()).toHaveLength(0);
  });
});

describe('invalid segments', () => {
  test('bad checksum, bogus options and short headers are dropped and counted', () => {
    const c = passive();
    const good = buildTcp(PEER_IP, STACK_IP, { srcPort: 40000, dstPort: 80, seq: c.peerSeq, ack: c.stackSeq, flags: ACK, window: 100, payload: enc('zz') });
    const badSum = good.slice();
    badSum[badSum.length - 1] ^= 0xff;
    c.h.link.inject(ipFrame(PEER_IP, STACK_IP, IPPROTO_TCP, badSum));
    c.h.link.inject(ipFrame(PEER_IP, STACK_IP, IPPROTO_TCP, good.subarray(0, 12)));
    // Option length running past the header.
    const bogus = buildTcp(PEER_IP, STACK_IP, { srcPort: 40000, dstPort: 80, seq: c.peerSeq, ack: c.stackSeq, flags: ACK, window: 100, options: { mss: 1000 } });
    bogus[21] = 40;
    bogus[16] = 0;
    bogus[17] = 0;
    c.h.link.inject(ipFrame(PEER_IP, STACK_IP, IPPROTO_TCP, fixTcpChecksum(bogus)));
    // Data offset smaller than the fixed header.
    const shortOff = good.slice();
    shortOff[12] = 0x10;
    c.h.link.inject(ipFrame(PEER_IP, STACK_IP, IPPROTO_TCP, fixTcpChecksum(shortOff)));
    expect(c.h.stack.stats.tcpMalformed).toBe(4);
    expect(c.ep.state).toBe('ESTABLISHED');
    expect(errno(c.ep.recv(10))).toBe(E.EAGAIN);
    c.h.link.inject(ipFrame(PEER_IP, STACK_IP, IPPROTO_TCP, good));
    expect(dec(ok(c.ep.recv(10)))).toBe('zz');
  });

  test('an ACK for data never sent is answered and ignored', () => {
    const c = passive();
    peerSend(c, ACK, undefined, { ack: c.stackSeq + 5000 });
    expect(c.p.recv()[0].ack).toBe(c.peerSeq);
    expect(c.ep.state).toBe('ESTABLISHED');
  });
});

function fixTcpChecksum(b: Uint8Array): Uint8Array {
  const seg = b.slice();
  seg[16] = 0;
  seg[17] = 0;
  let s = (PEER_IP >>> 16) + (PEER_IP & 0xffff) + (STACK_IP >>> 16) + (STACK_IP & 0xffff) + IPPROTO_TCP + seg.length;
  for (let i = 0; i < seg.length; i += 2) s += (seg[i] << 8) | (seg[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  const c = ~s & 0xffff;
  seg[16] = c >> 8;
  seg[17] = c & 0xff;
  return seg;
}

// Keep the segment type referenced for readers of the helpers above.
export type { TcpSegment };
