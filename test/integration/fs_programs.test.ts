// Real programs on the sandbox's filesystems: sqlite3 on the overlay root and on a tmpfs,
// a tar/gzip round trip, git, python3's file modules, and procps seeing only the sandbox.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { native, sandboxed } from './helpers.js';

const has = (p: string): boolean => existsSync(p);
const dir = mkdtempSync(join(tmpdir(), 'tsvisor-fsprog-'));

const SQL = `create table t(a integer primary key, b text, c real);
with recursive n(i) as (select 1 union all select i+1 from n where i < 10000) insert into t(b,c) select 'row'||i, i*1.5 from n;
select count(*), sum(c), max(b) from t;
create index ib on t(b);
select a,b from t where b like 'row99%' order by a limit 5;
update t set c = c * 2 where a % 3 = 0;
delete from t where a > 9000;
select count(*), sum(c) from t;
`;

function pythonPath(): string | undefined {
  const r = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

describe('real programs on the sandbox filesystems', () => {
  it.skipIf(!has('/usr/bin/sqlite3'))('sqlite3 fills and queries 10,000 rows on the overlay root and on /tmp tmpfs', () => {
    const sqlFile = join(dir, 'q.sql');
    writeFileSync(sqlFile, SQL);
    const nat = native(['/bin/sh', '-c', `rm -f ${dir}/n.db && sqlite3 ${dir}/n.db < ${sqlFile}`]);
    expect(nat.status).toBe(0);
    expect(nat.stdout).toContain('10000|75007500.0|row9999');
    // On the overlay root: /var/lib is a read-only host directory underneath.
    const onRoot = sandboxed(['/bin/sh', '-c', `sqlite3 /var/lib/t.db < ${sqlFile}`]);
    expect(onRoot.stderr).toBe('');
    expect(onRoot.stdout).toBe(nat.stdout);
    expect(existsSync('/var/lib/t.db')).toBe(false);
    // A fresh tmpfs hides the host's /tmp (and the script in it): the SQL comes on stdin.
    const onTmp = sandboxed(['/bin/sh', '-c', 'sqlite3 /tmp/t.db && ls /tmp'], { input: SQL, flags: ['--tmpfs', '/tmp'] });
    expect(onTmp.stdout).toBe(nat.stdout + 't.db\n');
  });

  it('tar czf of a tree and tar xzf back give identical checksums', () => {
    const script = [
      'set -e', 'mkdir -p /tmp/tt/src/a/b', 'cd /tmp/tt',
      'for i in 1 2 3 4 5; do head -c $((i*20000)) /bin/sh > src/a/f$i; done',
      'echo hello > src/a/b/h', 'ln -s ../f1 src/a/b/link', 'ln src/a/f2 src/a/hard', 'chmod 600 src/a/f3',
      'tar czf t.tgz src', 'mkdir out', 'tar xzf t.tgz -C out',
      '(cd src && find . -type f | sort | xargs md5sum) > s1',
      '(cd out/src && find . -type f | sort | xargs md5sum) > s2',
      'cmp s1 s2', 'cat s2', 'readlink out/src/a/b/link', 'stat -c "%a %h" out/src/a/f3 out/src/a/hard',
    ].join('\n');
    const s = sandboxed(['/bin/sh', '-c', script], { flags: ['--tmpfs', '/tmp'] });
    expect(s.stderr).toBe('');
    expect(s.status).toBe(0);
    expect(s.stdout.split('\n').filter((l) => l.includes('./a/')).length).toBe(7);
    expect(s.stdout).toContain('../f1\n600 1\n644 2\n');
  });

  it.skipIf(!has('/usr/bin/git'))('git init, add and commit in /tmp', () => {
    const s = sandboxed(['/bin/sh', '-c', [
      'set -e', 'cd /tmp', 'mkdir repo', 'cd repo', 'git init -q', 'echo hi > a', 'mkdir d', 'echo x > d/b',
      'git add a d', 'git -c user.name=t -c user.email=t@t commit -qm init', 'git log --format=%s', 'git ls-files',
      'git status --porcelain | wc -l',
    ].join('\n')], { flags: ['--tmpfs', '/tmp'] });
    expect(s.stderr).toBe('');
    expect(s.stdout).toBe('init\na\nd/b\n0\n');
  });

  const py = pythonPath();
  it.skipIf(py === undefined)('python3 os, shutil, tempfile and mmap behave as natively', () => {
    const script = join(dir, 'w.py');
    writeFileSync(script, `import os, shutil, tempfile, mmap, hashlib
d = tempfile.mkdtemp()
p = os.path.join(d, "a.txt")
with open(p, "w") as f:
    f.write("line\\n" * 1000)
os.makedirs(os.path.join(d, "x/y/z"))
shutil.copy(p, os.path.join(d, "x/y/z/b.txt"))
shutil.copytree(os.path.join(d, "x"), os.path.join(d, "x2"))
os.rename(os.path.join(d, "x2"), os.path.join(d, "x3"))
print(sorted(os.listdir(d)))
print([(r[len(d):], sorted(f)) for r, _, f in sorted(os.walk(d))])
with open(p, "r+b") as f:
    m = mmap.mmap(f.fileno(), 0)
    print(len(m), m[:5], m.find(b"line", 100))
    m[0:4] = b"LINE"
    m.flush()
    m.close()
with open(p, "rb") as f:
    print(f.read(10))
st = os.stat(p)
print(st.st_size, oct(st.st_mode & 0o777))
with tempfile.NamedTemporaryFile(dir=d) as t:
    t.write(b"abc"); t.flush(); print(os.path.getsize(t.name))
with tempfile.TemporaryFile() as t:
    t.write(b"xyz"); t.seek(0); print(t.read())
print(hashlib.md5(open(os.path.join(d, "x3/y/z/b.txt"), "rb").read()).hexdigest())
shutil.rmtree(d)
print(os.path.exists(d))
`);
    const n = native([py as string, script]);
    expect(n.status).toBe(0);
    const s = sandboxed([py as string, script]);
    expect(s.stderr).toBe('');
    expect(s.stdout).toBe(n.stdout);
  });

  it('ps aux and top -b -n1 show only the sandbox processes', () => {
    const s = sandboxed(['/bin/sh', '-c', 'sleep 5 & ps aux; top -b -n1 | tail -n +7; kill $!']);
    expect(s.status).toBe(0);
    const rows = s.stdout.split('\n').filter((l) => /^\S+\s+\d+\s/.test(l));
    const pids = rows.map((l) => Number(l.trim().split(/\s+/)[1]));
    expect(pids).toContain(1);
    expect(Math.max(...pids)).toBeLessThan(100);
    expect(s.stdout).toMatch(/ps aux/);
    expect(s.stdout).toMatch(/sleep 5/);
    expect(s.stdout).toMatch(/\btop\b/);
    expect(s.stdout).not.toMatch(/systemd|node /);
  });
});
