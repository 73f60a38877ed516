// Netlink framing: struct nlmsghdr (len, type, flags, seq, pid) followed by a body and
// struct rtattr attributes (len, type, data), everything aligned to 4 bytes.

export const NLMSG = { NOOP: 1, ERROR: 2, DONE: 3, OVERRUN: 4 } as const;
export const NLM_F = { REQUEST: 0x1, MULTI: 0x2, ACK: 0x4, ECHO: 0x8, ROOT: 0x100, MATCH: 0x200, DUMP: 0x300 } as const;
export const NLMSG_HDRLEN = 16;

const align4 = (n: number): number => (n + 3) & ~3;

export interface NlMessage {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  /** The header and body as sent (NLMSG_ERROR quotes the header). */
  raw: Uint8Array;
  body: Uint8Array;
}

/** The well-formed messages in a datagram; parsing stops at the first malformed header. */
export function parseMessages(b: Uint8Array): NlMessage[] {
  const out: NlMessage[] = [];
  const v = new DataView(b.buffer, b.byteOffset, b.length);
  for (let off = 0; off + NLMSG_HDRLEN <= b.length;) {
    const len = v.getUint32(off, true);
    if (len < NLMSG_HDRLEN || off + len > b.length) break;
    out.push({
      type: v.getUint16(off + 4, true),
      flags: v.getUint16(off + 6, true),
      seq: v.getUint32(off + 8, true),
      pid: v.getUint32(off + 12, true),
      raw: b.slice(off, off + len),
      body: b.slice(off + NLMSG_HDRLEN, off + len),
    });
    off += align4(len);
  }
  return out;
}

/** One message under construction. */
export class NlBuilder {
  private readonly parts: number[] = [];

  constructor(private readonly w: NlWriter, readonly type: number, readonly flags: number) {}

  u8(x: number): this {
    this.parts.push(x & 0xff);
    return this;
  }
  u16(x: number): this {
    this.parts.push(x & 0xff, (x >>> 8) & 0xff);
    return this;
  }
  u32(x: number): this {
    this.parts.push(x & 0xff, (x >>> 8) & 0xff, (x >>> 16) & 0xff, (x >>> 24) & 0xff);
    return this;
  }
  i32(x: number): this {
    return this.u32(x >>> 0);
  }
  bytes(b: Uint8Array): this {
    for (const x of b) this.parts.push(x);
    while (this.parts.length % 4 !== 0) this.parts.push(0);
    return this;
  }
  attr(type: number, data: Uint8Array): this {
    this.u16(4 + data.length).u16(type);
    return this.bytes(data);
  }
  attrU32(type: number, v: number): this {
    const d = new Uint8Array(4);
    new DataView(d.buffer).setUint32(0, v >>> 0, true);
    return this.attr(type, d);
  }
  attrU8(type: number, v: number): this {
    return this.attr(type, Uint8Array.of(v));
  }
  attrStr(type: number, s: string): this {
    return this.attr(type, new Uint8Array(Buffer.from(s + '\0', 'utf8')));
  }
  end(): void {
    while (this.parts.length % 4 !== 0) this.parts.push(0);
    this.w.add(this.type, this.flags, Uint8Array.from(this.parts));
  }
}

/** The replies to one request, grouped into datagrams of at most DATAGRAM bytes as Linux's dumps are. */
export class NlWriter {
  static readonly DATAGRAM = 16384;
  private readonly dgrams: Uint8Array[][] = [[]];
  private size = 0;

  constructor(private readonly seq: number, private readonly portId: number) {}

  begin(type: number, flags: number): NlBuilder {
    return new NlBuilder(this, type, flags);
  }

  add(type: number, flags: number, body: Uint8Array): void {
    const m = new Uint8Array(NLMSG_HDRLEN + body.length);
    const v = new DataView(m.buffer);
    v.setUint32(0, m.length, true);
    v.setUint16(4, type, true);
    v.setUint16(6, flags, true);
    v.setUint32(8, this.seq, true);
    v.setUint32(12, this.portId, true);
    m.set(body, NLMSG_HDRLEN);
    if (this.size + m.length > NlWriter.DATAGRAM && this.size > 0) {
      this.dgrams.push([]);
      this.size = 0;
    }
    this.dgrams[this.dgrams.length - 1].push(m);
    this.size += m.length;
  }

  /** NLMSG_DONE ending a dump: its body is the int 0. */
  done(): void {
    this.add(NLMSG.DONE, NLM_F.MULTI, new Uint8Array(4));
  }

  /** NLMSG_ERROR with errno (0: an ACK) quoting the request's header. */
  error(req: NlMessage, negErrno: number): this {
    const body = new Uint8Array(4 + NLMSG_HDRLEN);
    new DataView(body.buffer).setInt32(0, negErrno, true);
    body.set(req.raw.subarray(0, NLMSG_HDRLEN), 4);
    this.add(NLMSG.ERROR, 0, body);
    return this;
  }

  datagrams(): Uint8Array[] {
    return this.dgrams.filter((d) => d.length > 0).map((d) => {
      const out = new Uint8Array(d.reduce((s, m) => s + m.length, 0));
      let o = 0;
      for (const m of d) {
        out.set(m, o);
        o += m.length;
      }
      return out;
    });
  }
}
