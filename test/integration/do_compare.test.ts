// `tsvisor do` runs real programs and gives the same stdout and exit status as running
// them natively: busybox applets (static) and Debian's dynamically linked programs.

import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUSYBOX, native, sandboxed } from './helpers.js';

// A small tree for ls/find/tar/grep to work on, the same for both runs.
const tree = mkdtempSync(join(tmpdir(), 'tsvisor-tree-'));
mkdirSync(join(tree, 'sub', 'deep'), { recursive: true });
writeFileSync(join(tree, 'a.txt'), 'banana\napple\ncherry\napple\n');
writeFileSync(join(tree, 'b.txt'), 'one two three\nfour five\n');
writeFileSync(join(tree, 'sub', 'c.txt'), 'x'.repeat(10000));
writeFileSync(join(tree, 'sub', 'deep', 'd.txt'), 'deep\n');
const tarball = join(tree, 't.tar');
native(['/bin/tar', '-C', tree, '-cf', tarball, 'a.txt', 'sub']);

const bb = (...args: string[]): string[] => [BUSYBOX, ...args];
const sh = (script: string): string[] => bb('sh', '-c', script);

const cases: Array<{ name: string; argv: string[]; input?: string }> = [
  { name: 'busybox echo', argv: bb('echo', 'hello', 'world') },
  { name: 'busybox true', argv: bb('true') },
  { name: 'busybox false', argv: bb('false') },
  { name: 'sh exit status', argv: sh('exit 7') },
  { name: 'sh pipes', argv: sh(`cat ${tree}/a.txt | sort | uniq -c | sort -rn`) },
  { name: 'sh redirections', argv: sh(`echo one > /dev/null; echo two 2>&1; cat < ${tree}/b.txt`) },
  { name: 'sh variables and loops', argv: sh('for i in 1 2 3; do x=$((x + i)); done; echo $x; i=0; while [ $i -lt 3 ]; do i=$((i+1)); echo n$i; done') },
  { name: 'sh subshell and $?', argv: sh('(exit 3); echo status=$?; false || echo alt') },
  { name: 'busybox ls -l', argv: bb('ls', '-ln', '--full-time', tree) },
  { name: 'busybox cat', argv: bb('cat', `${tree}/a.txt`, `${tree}/b.txt`) },
  { name: 'busybox wc', argv: bb('wc', `${tree}/a.txt`, `${tree}/b.txt`, `${tree}/sub/c.txt`) },
  { name: 'busybox sort', argv: bb('sort', '-r', `${tree}/a.txt`) },
  { name: 'busybox grep', argv: bb('grep', '-n', 'app', `${tree}/a.txt`) },
  { name: 'busybox grep no match', argv: bb('grep', 'zzz', `${tree}/a.txt`) },
  { name: 'busybox sed', argv: bb('sed', 's/a/A/g;2d', `${tree}/a.txt`) },
  { name: 'busybox awk', argv: bb('awk', '{ n += NF } END { print n, NR }', `${tree}/b.txt`) },
  { name: 'busybox find', argv: sh(`cd ${tree} && busybox find . -name '*.txt' | sort`) },
  { name: 'busybox seq', argv: bb('seq', '1', '3', '20') },
  { name: 'busybox md5sum', argv: bb('md5sum', `${tree}/a.txt`, `${tree}/sub/c.txt`) },
  { name: 'busybox tar listing', argv: bb('tar', '-tf', tarball) },
  { name: 'busybox stdin', argv: bb('tr', 'a-z', 'A-Z'), input: 'shout this\n' },
  { name: 'busybox head/tail', argv: sh(`busybox seq 100 | busybox head -n 20 | busybox tail -n 3`) },
  { name: 'busybox missing file', argv: bb('cat', '/nonexistent/file') },
  { name: '/bin/ls', argv: ['/bin/ls', '-1', tree] },
  { name: '/bin/ls -la sub', argv: ['/bin/ls', '-lan', '--time-style=+%s', join(tree, 'sub')] },
  { name: '/bin/cat', argv: ['/bin/cat', `${tree}/b.txt`] },
  { name: '/usr/bin/sort', argv: ['/usr/bin/sort', `${tree}/a.txt`] },
  { name: '/usr/bin/wc', argv: ['/usr/bin/wc', '-c', `${tree}/sub/c.txt`] },
  { name: '/usr/bin/head', argv: ['/usr/bin/head', '-c', '5', `${tree}/sub/c.txt`] },
  { name: '/bin/grep', argv: ['/bin/grep', '-c', 'apple', `${tree}/a.txt`] },
  { name: 'bash -c', argv: ['/bin/bash', '-c', 'echo "$((6*7))"; x=(a b c); echo ${#x[@]} ${x[1]}; exit 5'] },
  { name: 'bash pipeline', argv: ['/bin/bash', '-c', `/bin/cat ${tree}/a.txt | /usr/bin/sort -u | /usr/bin/wc -l`] },
  { name: 'python3', argv: ['/usr/bin/python3', '-c', 'import os, sys; print(sys.version_info[0], os.getpid() > 0)'] },
  { name: 'python3 computes', argv: ['/usr/bin/python3', '-c', 'import hashlib, json; print(json.dumps(sorted({"b": 1, "a": 2})), hashlib.sha256(b"x" * 1000).hexdigest())'] },
  { name: 'python3 exit code', argv: ['/usr/bin/python3', '-c', 'import sys; sys.exit(3)'] },
];

describe('tsvisor do matches native', () => {
  for (const c of cases) {
    it(c.name, () => {
      const want = native(c.argv, c.input);
      const got = sandboxed(c.argv, { input: c.input });
      expect({ stdout: got.stdout, status: got.status }).toEqual({ stdout: want.stdout, status: want.status });
    });
  }
});
