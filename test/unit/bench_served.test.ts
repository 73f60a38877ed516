import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readyAddress } from '../../bench/src/parse.js';
import { nativeRuntime, runscRuntime, tsvisorRuntime } from '../../bench/src/runtimes.js';
import { startServer } from '../../bench/src/served.js';

const ENV = { PATH: '/usr/bin:/bin' };

describe('bench served workloads', () => {
  it('reads the address a server announces and nothing else', () => {
    expect(readyAddress('starting\nREADY 10.200.0.2\n')).toBe('10.200.0.2');
    expect(readyAddress('  READY 127.0.0.1  ')).toBe('127.0.0.1');
    expect(readyAddress('READY\nREADY 10.0.0.256\nREADY 1.2.3\nREADY 1.2.3.4 extra\nNOT READY 1.2.3.4')).toBeUndefined();
    expect(readyAddress('READY fe80::1\nREADY 192.168.10.2')).toBe('192.168.10.2');
  });

  it('asks each runtime for a host-reachable network only when told to', () => {
    expect(nativeRuntime.wrap(['/bin/x'], '/', { network: true })).toEqual(['/bin/x']);
    const runsc = runscRuntime('/usr/bin/runsc', '/state');
    expect(runsc.wrap(['/bin/x'], '/')).toContain('--network=none');
    expect(runsc.wrap(['/bin/x'], '/', { network: true })).not.toContain('--network=none');
    const ts = tsvisorRuntime('/repo');
    expect(ts.wrap(['/bin/x'], '/')).not.toContain('--network=sandbox');
    const withNet = ts.wrap(['/bin/x'], '/', { network: true });
    expect(withNet.indexOf('--network=sandbox')).toBeLessThan(withNet.indexOf('--'));
  });

  it.runIf(existsSync('/bin/sh'))('waits for READY, then stops the server and everything it started', async () => {
    const s = await startServer(['/bin/sh', '-c', 'sleep 30 & echo $! >&2; echo READY 127.0.0.1; wait'], { cwd: '/', env: ENV, readyTimeoutMs: 5000 });
    expect(s.ready).toEqual({ ok: true, address: '127.0.0.1' });
    const out = await s.stop();
    const sleeper = Number(out.stderr.trim());
    expect(sleeper).toBeGreaterThan(0);
    // Gone, or a zombie waiting for the reaper it was orphaned to.
    const state = existsSync(`/proc/${sleeper}/stat`) ? readFileSync(`/proc/${sleeper}/stat`, 'utf8').split(') ')[1]?.[0] : 'gone';
    expect(['gone', 'Z']).toContain(state);
  });

  it.runIf(existsSync('/bin/sh'))('reports a server that exits before it is ready', async () => {
    const s = await startServer(['/bin/sh', '-c', 'echo "no network" >&2; exit 3'], { cwd: '/', env: ENV, readyTimeoutMs: 5000 });
    expect(s.ready).toEqual({ ok: false, reason: 'server exited before it was ready' });
    expect((await s.stop()).stderr).toContain('no network');
  });
});
