import { describe, expect, it } from 'vitest';
import { E } from '../../sentry/abi/errno.js';
import { err } from '../../sentry/abi/result.js';
import { EPOLL, EpollFile } from '../../sentry/fs/epoll/epoll.js';
import { EventFdFile } from '../../sentry/fs/eventfd/eventfd.js';
import { createPipe } from '../../sentry/fs/pipe/pipe.js';
import { O, POLL } from '../../sentry/vfs/constants.js';
import { FileDescription } from '../../sentry/vfs/file.js';

const one = (): Uint8Array => Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0);

/** A file whose readiness never changes (like a regular file). */
class PlainFile extends FileDescription {}

describe('epoll', () => {
  it('level-triggered entries are reported while ready', () => {
    const ep = new EpollFile(0);
    const { read, write } = createPipe();
    expect(ep.ctl(EPOLL.CTL_ADD, 3, read, { events: POLL.IN, data: 7n })).toBeUndefined();
    expect(ep.collect(8)).toEqual([]);
    write.write(Uint8Array.of(1), {});
    expect(ep.collect(8)).toEqual([{ events: POLL.IN, data: 7n }]);
    expect(ep.collect(8)).toHaveLength(1);
    expect(ep.readiness() & POLL.IN).toBe(POLL.IN);
    read.read(new Uint8Array(1), {});
    expect(ep.collect(8)).toEqual([]);
    ep.decRef();
    read.decRef();
    write.decRef();
  });

  it('edge-triggered entries are reported once per change; oneshot ones until re-armed', () => {
    const ep = new EpollFile(0);
    const e = new EventFdFile(0n, false, O.NONBLOCK);
    ep.ctl(EPOLL.CTL_ADD, 4, e, { events: POLL.IN | EPOLL.ET, data: 1n });
    e.write(one(), {});
    expect(ep.collect(8)).toHaveLength(1);
    expect(ep.collect(8)).toHaveLength(0);
    e.write(one(), {});
    expect(ep.collect(8)).toHaveLength(1);
    ep.ctl(EPOLL.CTL_MOD, 4, e, { events: POLL.IN | EPOLL.ONESHOT, data: 2n });
    expect(ep.collect(8)).toEqual([{ events: POLL.IN, data: 2n }]);
    expect(ep.collect(8)).toHaveLength(0);
    ep.ctl(EPOLL.CTL_MOD, 4, e, { events: POLL.IN, data: 3n });
    expect(ep.collect(8)).toEqual([{ events: POLL.IN, data: 3n }]);
    ep.decRef();
    e.decRef();
  });

  it('ctl errors: EEXIST, ENOENT, EINVAL for itself, EPERM for files that cannot wait, ELOOP for cycles', () => {
    const a = new EpollFile(0);
    const b = new EpollFile(0);
    const e = new EventFdFile(0n, false, 0);
    expect(a.ctl(EPOLL.CTL_ADD, 1, e, { events: POLL.IN, data: 0n })).toBeUndefined();
    expect(a.ctl(EPOLL.CTL_ADD, 1, e, { events: POLL.IN, data: 0n })).toBe(err(E.EEXIST));
    expect(a.ctl(EPOLL.CTL_DEL, 2, e, { events: 0, data: 0n })).toBe(err(E.ENOENT));
    expect(a.ctl(EPOLL.CTL_ADD, 5, a, { events: POLL.IN, data: 0n })).toBe(err(E.EINVAL));
    expect(a.ctl(EPOLL.CTL_ADD, 6, new PlainFile(O.RDONLY, null), { events: POLL.IN, data: 0n })).toBe(err(E.EPERM));
    expect(a.ctl(EPOLL.CTL_ADD, 7, b, { events: POLL.IN, data: 0n })).toBeUndefined();
    expect(b.ctl(EPOLL.CTL_ADD, 8, a, { events: POLL.IN, data: 0n })).toBe(err(E.ELOOP));
    a.decRef();
    b.decRef();
    e.decRef();
  });

  it('nested sets propagate readiness, and entries die with their file', () => {
    const inner = new EpollFile(0);
    const outer = new EpollFile(0);
    const e = new EventFdFile(0n, false, 0);
    inner.ctl(EPOLL.CTL_ADD, 1, e, { events: POLL.IN, data: 1n });
    outer.ctl(EPOLL.CTL_ADD, 2, inner, { events: POLL.IN, data: 2n });
    expect(outer.collect(4)).toHaveLength(0);
    e.write(one(), {});
    expect(outer.collect(4)).toEqual([{ events: POLL.IN, data: 2n }]);
    e.decRef();
    expect(inner.collect(4)).toHaveLength(0);
    inner.decRef();
    outer.decRef();
  });
});
