// TCP header and options codec (RFC 9293 3.1, RFC 7323 window scale and timestamps,
// RFC 2018 SACK). Malformed option lists reject the segment; a known option with the
// wrong length is ignored, as Linux does.

import { rd16, rd32, wr16, wr32 } from '../bytes.js';
import { checksum, fold, pseudoHeaderSum, sum16, type PseudoHeaderSum } from '../checksum.js';
import { IPPROTO_TCP } from '../ipv4.js';
import { allocWithHeadroom } from '../headroom.js';

export const TCP_HLEN = 20;
export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;
export const URG = 0x20;

const OPT_EOL = 0;
const OPT_NOP = 1;
const OPT_MSS = 2;
const OPT_WS = 3;
const OPT_SACK_PERM = 4;
const OPT_SACK = 5;
const OPT_TS = 8;

export interface SackBlock {
  start: number;
  end: number;
}

export interface TcpOptions {
  mss?: number;
  wscale?: number;
  sackPermitted?: boolean;
  tsVal?: number;
  tsEcr?: number;
  sack?: SackBlock[];
}

export interface TcpSegment {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  /** The raw 16-bit window field (unscaled). */
  window: number;
  urgent: number;
  options: TcpOptions;
  payload: Uint8Array;
}

/** Sequence space a segment occupies: data plus one each for SYN and FIN. */
export function segLen(s: TcpSegment): number {
  return s.payload.length + (s.flags & SYN ? 1 : 0) + (s.flags & FIN ? 1 : 0);
}

function parseOptions(b: Uint8Array, start: number, end: number): TcpOptions | null {
  const o: TcpOptions = {};
  let i = start;
  while (i < end) {
    const kind = b[i];
    if (kind === OPT_EOL) break;
    if (kind === OPT_NOP) {
      i++;
      continue;
    }
    if (i + 1 >= end) return null;
    const len = b[i + 1];
    if (len < 2 || i + len > end) return null;
    switch (kind) {
      case OPT_MSS:
        if (len === 4) o.mss = rd16(b, i + 2);
        break;
      case OPT_WS:
        if (len === 3) o.wscale = Math.min(b[i + 2], 14); // RFC 7323 2.3: clamp to 14
        break;
      case OPT_SACK_PERM:
        if (len === 2) o.sackPermitted = true;
        break;
      case OPT_TS:
        if (len === 10) {
          o.tsVal = rd32(b, i + 2);
          o.tsEcr = rd32(b, i + 6);
        }
        break;
      case OPT_SACK:
        if (len >= 10 && (len - 2) % 8 === 0) {
          o.sack = [];
          for (let j = i + 2; j < i + len; j += 8) o.sack.push({ start: rd32(b, j), end: rd32(b, j + 4) });
        }
        break;
      default:
        break;
    }
    i += len;
  }
  return o;
}

/** Parse and (unless verify is false) checksum a segment; null for anything malformed. */
export function parseTcp(b: Uint8Array, src: number, dst: number, verify = true, pseudo: PseudoHeaderSum = pseudoHeaderSum): TcpSegment | null {
  if (b.length < TCP_HLEN) return null;
  const off = (b[12] >> 4) * 4;
  if (off < TCP_HLEN || off > b.length) return null;
  if (verify && fold(sum16(b, 0, b.length, pseudo(src, dst, IPPROTO_TCP, b.length))) !== 0xffff) return null;
  const options = parseOptions(b, TCP_HLEN, off);
  if (options === null) return null;
  return {
    srcPort: rd16(b, 0),
    dstPort: rd16(b, 2),
    seq: rd32(b, 4),
    ack: rd32(b, 8),
    flags: b[13] & 0x3f,
    window: rd16(b, 14),
    urgent: rd16(b, 18),
    options,
    payload: b.subarray(off),
  };
}

function encodeOptions(o: TcpOptions, syn: boolean): Uint8Array {
  const out: number[] = [];
  if (o.mss !== undefined) out.push(OPT_MSS, 4, o.mss >> 8, o.mss & 0xff);
  if (syn && o.sackPermitted) {
    if (o.tsVal !== undefined) out.push(OPT_SACK_PERM, 2);
    else out.push(OPT_NOP, OPT_NOP, OPT_SACK_PERM, 2);
  }
  if (o.tsVal !== undefined) {
    if (!(syn && o.sackPermitted)) out.push(OPT_NOP, OPT_NOP);
    const ts = new Uint8Array(8);
    wr32(ts, 0, o.tsVal);
    wr32(ts, 4, o.tsEcr ?? 0);
    out.push(OPT_TS, 10, ...ts);
  }
  if (o.wscale !== undefined) out.push(OPT_NOP, OPT_WS, 3, o.wscale);
  if (o.sack !== undefined && o.sack.length > 0) {
    out.push(OPT_NOP, OPT_NOP, OPT_SACK, 2 + 8 * o.sack.length);
    for (const blk of o.sack) {
      const x = new Uint8Array(8);
      wr32(x, 0, blk.start);
      wr32(x, 4, blk.end);
      out.push(...x);
    }
  }
  while (out.length % 4 !== 0) out.push(OPT_EOL);
  return Uint8Array.from(out);
}

/** Bytes of options a data segment carries when timestamps are on (NOP NOP TS). */
export const TS_OPTION_LEN = 12;

export interface TcpBuild {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  options?: TcpOptions;
  payload?: Uint8Array;
}

export function buildTcp(src: number, dst: number, s: TcpBuild, pseudo: PseudoHeaderSum = pseudoHeaderSum): Uint8Array {
  const opts = encodeOptions(s.options ?? {}, (s.flags & SYN) !== 0);
  const payload = s.payload ?? new Uint8Array(0);
  const hl = TCP_HLEN + opts.length;
  const b = allocWithHeadroom(hl + payload.length);
  wr16(b, 0, s.srcPort);
  wr16(b, 2, s.dstPort);
  wr32(b, 4, s.seq >>> 0);
  wr32(b, 8, s.ack >>> 0);
  b[12] = (hl / 4) << 4;
  b[13] = s.flags;
  wr16(b, 14, Math.max(0, Math.min(0xffff, s.window)));
  b.set(opts, TCP_HLEN);
  b.set(payload, hl);
  wr16(b, 16, checksum(b, 0, b.length, pseudo(src, dst, IPPROTO_TCP, b.length)));
  return b;
}
