// A container whose config names a network namespace path (how CNI hands over a pod's
// network): the Sentry takes that namespace's interface and the container reaches the host
// end of its veth. The namespace is built the way `tsvisor do --network=sandbox` builds one.

import { createServer, type Server } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { buildSandboxNetwork, type SandboxNetwork } from '../../runsc-cli/do_network.js';
import { OciDriver } from './oci_helpers.js';

const d = new OciDriver();
let net: SandboxNetwork | undefined;
let server: Server | undefined;

afterAll(() => {
  d.cleanup();
  server?.close();
  net?.teardown();
});

describe('oci network namespace path', () => {
  it('the container talks to the host through the namespace it was given', async () => {
    const n = buildSandboxNetwork(process.pid + 7);
    if (typeof n === 'string') throw new Error(n);
    net = n;
    const got: string[] = [];
    server = createServer((s) => {
      s.on('data', (b: Buffer) => {
        got.push(b.toString());
        s.end('pong\n');
      });
    });
    const srv = server;
    await new Promise<void>((r) => srv.listen(7777, n.hostAddr, r));
    const b = d.bundle('netns', ['sh', '-c', `echo ping | nc ${n.hostAddr} 7777`], (c) => {
      const linux = c.linux as { namespaces: { type: string; path?: string }[] };
      linux.namespaces = linux.namespaces.map((ns) => (ns.type === 'network' ? { type: 'network', path: n.config.nsPath } : ns));
    });
    const r = await d.start(['run', '--bundle', b, 'netns']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('pong\n');
    expect(r.status).toBe(0);
    expect(got).toEqual(['ping\n']);
  }, 60_000);
});
