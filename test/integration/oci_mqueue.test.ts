// The /dev/mqueue mount of an OCI config (runc's default spec lists one) is the Sentry's
// mqueue filesystem: a queue made with mq_open shows up there, with its status line.

import { afterAll, describe, expect, it } from 'vitest';
import { compileC } from './helpers.js';
import { OciDriver } from './oci_helpers.js';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';

const d = new OciDriver();

afterAll(() => {
  d.cleanup();
});

const MQ = `
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
int main(void) {
  mqd_t q = mq_open("/oci_q", O_RDWR | O_CREAT, 0640, NULL);
  if (q == (mqd_t)-1 || mq_send(q, "hello", 5, 1) != 0) { perror("mq"); return 1; }
  return 0;
}`;

describe('OCI /dev/mqueue', () => {
  it('mounts the sandbox mqueue filesystem at /dev/mqueue', () => {
    const bin = compileC('mqmake', MQ, ['-static', '-lrt']);
    const b = d.bundle('mqueue', ['sh', '-c', '/mqmake && cat /dev/mqueue/oci_q /proc/self/mounts']);
    copyFileSync(bin, join(b, 'rootfs', 'mqmake'));
    const r = d.run(['run', '--bundle', b, 'mqueue']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const [status, ...mounts] = r.stdout.split('\n');
    expect(status).toBe('QSIZE:5          NOTIFY:0     SIGNO:0     NOTIFY_PID:0     ');
    expect(mounts.find((l) => l.split(' ')[1] === '/dev/mqueue')?.split(' ')[2]).toBe('mqueue');
  });
});
