// Packets built from the inside out without copying: a transport allocates its segment with
// room in front for the headers below it, and each lower layer (IP, Ethernet) writes its
// header into that room instead of copying the packet behind a new one. Only the layer that
// owns the packet's current front may grow it, once: a view that is not the front (a
// fragment, a packet already wrapped) is copied as before.

/** Room for Ethernet (14, 18 with a VLAN tag) and IPv6 (40) headers. */
const HEADROOM = 64;

/** Each headroom buffer's current front: where the next header ends. */
const fronts = new WeakMap<ArrayBufferLike, number>();

/** A zeroed n-byte buffer with headroom before it. */
export function allocWithHeadroom(n: number): Uint8Array {
  const buf = new ArrayBuffer(HEADROOM + n);
  fronts.set(buf, HEADROOM);
  return new Uint8Array(buf, HEADROOM, n);
}

/**
 * payload with hlen zeroed bytes in front of it: grown in place when payload is the whole
 * rest of a headroom buffer from its front, else a new buffer with payload copied in.
 */
export function prepend(payload: Uint8Array, hlen: number): Uint8Array {
  const buf = payload.buffer;
  const front = fronts.get(buf);
  if (front !== undefined && payload.byteOffset === front && front >= hlen && front + payload.length === buf.byteLength) {
    fronts.set(buf, front - hlen);
    return new Uint8Array(buf, front - hlen, hlen + payload.length);
  }
  const b = allocWithHeadroom(hlen + payload.length);
  b.set(payload, hlen);
  return b;
}
