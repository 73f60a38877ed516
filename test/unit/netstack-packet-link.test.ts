// The AF_PACKET link's batching, with a FIFO standing in for the socket's blocking read and
// scripted batch I/O behind it: a burst reaches the stack in one pass, in order, and frames
// written during a turn of the event loop leave together in one batched send.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { PacketLink, type PacketBatchIo } from '../../sentry/netstack/link/packet.js';

const MAC = Uint8Array.from([2, 0, 0, 0, 0, 1]);
const frame = (tag: number, len = 60): Uint8Array => new Uint8Array(len).fill(tag);

/** Batch I/O over a queue of waiting frames; records each send call's frames. */
class ScriptedIo implements PacketBatchIo {
  readonly waiting: Uint8Array[] = [];
  readonly sends: Uint8Array[][] = [];

  recvBatch(_fd: number, buf: Uint8Array, lens: Int32Array): number {
    const slot = buf.length / lens.length;
    let n = 0;
    while (n < lens.length && this.waiting.length > 0) {
      const f = this.waiting.shift() as Uint8Array;
      buf.set(f, n * slot);
      lens[n++] = f.length;
    }
    return n;
  }

  sendBatch(_fd: number, buf: Uint8Array, lens: Int32Array, count: number): number {
    const out: Uint8Array[] = [];
    let off = 0;
    for (let i = 0; i < count; i++) {
      out.push(buf.slice(off, off + lens[i]));
      off += lens[i];
    }
    this.sends.push(out);
    return count;
  }
}

function fifo(): number {
  const p = join(mkdtempSync(join(tmpdir(), 'tsvisor-link-')), 'frames');
  expect(spawnSync('mkfifo', [p]).status).toBe(0);
  // Read-write, so opening does not wait for a writer and reads block until data comes.
  return openSync(p, 'r+');
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
}

describe('PacketLink batching', () => {
  test('the rest of a burst is drained with the first frame and delivered in one pass', async () => {
    const fd = fifo();
    const io = new ScriptedIo();
    const passes: number[][] = [];
    let current: number[] | null = null;
    const link = new PacketLink(fd, 1500, MAC, (fn) => {
      current = [];
      fn();
      passes.push(current);
      current = null;
    }, io);
    link.attach((f) => current?.push(f[0]));
    // 200 frames wait behind the one the blocking read returns: more than one batch call takes.
    for (let i = 0; i < 200; i++) io.waiting.push(frame(i % 256));
    writeSync(fd, frame(255));
    await until(() => passes.length > 0);
    expect(passes).toHaveLength(1);
    expect(passes[0]).toEqual([255, ...Array.from({ length: 200 }, (_, i) => i % 256)]);
    expect(link.stats.rxFrames).toBe(201);
    expect(link.stats.rxWakeups).toBe(1);
    link.close();
    writeSync(fd, frame(1)); // wakes the pending read so the link closes its fd
  });

  test('frames written in one turn leave in one batched send, in order, 64 per call', async () => {
    const fd = fifo();
    const io = new ScriptedIo();
    const link = new PacketLink(fd, 1500, MAC, (fn) => fn(), io);
    for (let i = 0; i < 70; i++) link.write(frame(i, 60 + i));
    expect(io.sends).toHaveLength(0);
    await Promise.resolve();
    expect(io.sends.map((s) => s.length)).toEqual([64, 6]);
    expect(io.sends.flat().map((f) => [f[0], f.length])).toEqual(Array.from({ length: 70 }, (_, i) => [i, 60 + i]));
    expect(link.stats.txFrames).toBe(70);
    expect(link.stats.txCalls).toBe(2);
    link.close();
  });
});
