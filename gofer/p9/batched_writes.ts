// Frames written in the same turn of the event loop leave in one writev: a lookup's Twalk
// and Tgetattr (and their replies) then cost one socket write each way instead of two.

import type { Duplex } from 'node:stream';

/** A write function for `stream` that corks on the first frame of a turn and uncorks after it. */
export function batchedWriter(stream: Duplex): (frame: Uint8Array) => void {
  let corked = false;
  const uncork = (): void => {
    corked = false;
    if (!stream.destroyed) stream.uncork();
  };
  return (frame) => {
    if (!corked) {
      corked = true;
      stream.cork();
      setImmediate(uncork);
    }
    stream.write(frame);
  };
}
