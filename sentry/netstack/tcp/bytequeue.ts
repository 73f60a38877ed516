// A FIFO of bytes held as chunks: the send buffer (from SND.UNA) and the receive buffer.

export class ByteQueue {
  private chunks: Uint8Array[] = [];
  /** Bytes already consumed from chunks[0]. */
  private head = 0;
  private len = 0;

  get length(): number {
    return this.len;
  }

  push(data: Uint8Array): void {
    if (data.length === 0) return;
    this.chunks.push(data);
    this.len += data.length;
  }

  /** A copy of bytes [offset, offset+n) from the front, clipped to what is held. */
  peek(offset: number, n: number): Uint8Array {
    n = Math.max(0, Math.min(n, this.len - offset));
    const out = new Uint8Array(n);
    let skip = offset + this.head;
    let o = 0;
    for (const c of this.chunks) {
      if (o >= n) break;
      if (skip >= c.length) {
        skip -= c.length;
        continue;
      }
      const take = Math.min(c.length - skip, n - o);
      out.set(c.subarray(skip, skip + take), o);
      o += take;
      skip = 0;
    }
    return out;
  }

  /** Drop n bytes from the front. */
  consume(n: number): void {
    n = Math.min(n, this.len);
    this.len -= n;
    while (n > 0) {
      const c = this.chunks[0];
      const left = c.length - this.head;
      if (n < left) {
        this.head += n;
        return;
      }
      n -= left;
      this.chunks.shift();
      this.head = 0;
    }
  }

  /** Remove and return up to n bytes from the front. */
  take(n: number): Uint8Array {
    const out = this.peek(0, n);
    this.consume(out.length);
    return out;
  }

  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.len = 0;
  }
}
