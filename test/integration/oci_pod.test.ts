// Pods: a container whose CRI (containerd) or CRI-O annotations name an existing sandbox
// joins that sandbox's Sentry instead of starting one, with a root of its own.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { alive, OciDriver, processesMentioning, until } from './oci_helpers.js';

const d = new OciDriver();

afterAll(() => {
  d.cleanup();
});

type Ann = Record<string, string>;
const cri = (type: string, sandbox: string): Ann => ({ 'io.kubernetes.cri.container-type': type, 'io.kubernetes.cri.sandbox-id': sandbox });
const crio = (type: string, sandbox: string): Ann => ({ 'io.kubernetes.cri-o.ContainerType': type, 'io.kubernetes.cri-o.SandboxID': sandbox });

function bundle(name: string, args: string[], annotations: Ann, marker: string): string {
  const b = d.bundle(name, args, (c) => (c.annotations = annotations));
  writeFileSync(join(b, 'rootfs', 'marker'), marker + '\n');
  return b;
}

describe('oci pods', () => {
  it('a CRI pod container runs in the pause container\'s sandbox with its own root', async () => {
    expect(d.run(['run', '-d', '--bundle', bundle('pause', ['sleep', '60'], cri('sandbox', 'pod1'), 'pause'), 'pod1']).status).toBe(0);
    const sandboxPid = d.state('pod1').pid;
    const app = bundle('app', ['sh', '-c', 'cat /marker; sleep 30'], cri('container', 'pod1'), 'app');
    const c = d.run(['create', '--bundle', app, '--pid-file', join(d.work, 'app.pid'), 'app1']);
    expect(c.stderr).toBe('');
    expect(c.status).toBe(0);
    const st = d.state('app1');
    expect(st.status).toBe('created');
    expect(st.pid).not.toBe(sandboxPid);
    // No second sandbox: the only sandbox process is the pod's.
    expect(processesMentioning('--id app1').filter((p) => p !== st.pid)).toEqual([]);
    expect(d.run(['start', 'app1']).status).toBe(0);
    expect(d.state('app1').status).toBe('running');
    expect(d.run(['exec', 'app1', 'cat', '/marker']).stdout).toBe('app\n');
    expect(d.run(['exec', 'pod1', 'cat', '/marker']).stdout).toBe('pause\n');
    // One kernel: the pod's first container sees the new one's processes.
    const appPids = JSON.parse(d.run(['ps', '--format', 'json', 'app1']).stdout) as number[];
    expect(appPids.length).toBe(1);
    const all = JSON.parse(d.run(['ps', '--format', 'json', 'pod1']).stdout) as number[];
    expect(all).toEqual(expect.arrayContaining(appPids));
    expect(d.run(['kill', 'app1', 'KILL']).status).toBe(0);
    expect(await until(() => !alive(st.pid))).toBe(true);
    expect(JSON.parse(d.run(['wait', 'app1']).stdout)).toEqual({ id: 'app1', exitStatus: 137 });
    expect(d.run(['delete', 'app1']).status).toBe(0);
    expect(d.state('pod1').status).toBe('running');
  }, 60_000);

  it('a CRI-O pod container passes its exit status; deleting the pod ends its containers', async () => {
    const app = bundle('crio', ['sh', '-c', 'cat /marker; exit 3'], crio('container', 'pod1'), 'crio');
    expect(d.run(['create', '--bundle', app, 'app2']).status).toBe(0);
    expect(d.run(['start', 'app2']).status).toBe(0);
    expect(JSON.parse(d.run(['wait', 'app2']).stdout)).toEqual({ id: 'app2', exitStatus: 3 });
    expect(d.run(['delete', 'app2']).status).toBe(0);

    const long = bundle('long', ['sleep', '60'], cri('container', 'pod1'), 'long');
    expect(d.run(['run', '-d', '--bundle', long, 'app3']).status).toBe(0);
    const pid = d.state('app3').pid;
    expect(d.run(['delete', '--force', 'pod1']).status).toBe(0);
    expect(await until(() => !alive(pid), 10_000)).toBe(true);
    expect(d.state('app3').status).toBe('stopped');
    expect(d.run(['delete', 'app3']).status).toBe(0);
  }, 60_000);

  it('refuses a pod container whose sandbox does not exist', () => {
    const app = bundle('orphan', ['true'], cri('container', 'nopod'), 'x');
    const r = d.run(['create', '--bundle', app, 'app4']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('pod sandbox nopod does not exist');
    expect(d.leftovers()).not.toContain('app4');
  });
});
