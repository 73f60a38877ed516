// xattrs of host files through the Gofer, seen by a real program: on the sandbox root (a
// Gofer export under the overlay) they match the host's; on a writable --volume a set
// from inside reaches the host file.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { native, sandboxed } from './helpers.js';

describe('xattrs through the Gofer', () => {
  let dir: string;
  const file = (): string => path.join(dir, 'f.txt');

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gofer-xattr-it-'));
    fs.writeFileSync(file(), 'data\n');
    // The host fs must take user.* xattrs for the comparison to mean anything.
    const set = native(['python3', '-c',
      'import os,sys; os.setxattr(sys.argv[1], "user.colour", b"blue"); os.setxattr(sys.argv[1], "user.n", b"\\x00\\x01"); os.setxattr(sys.argv[2], "user.d", b"dir")',
      file(), dir]);
    expect(set.stderr).toBe('');
    expect(set.status).toBe(0);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const SHOW = 'import os,sys\np=sys.argv[1]\nprint(os.getxattr(p,"user.colour"), os.getxattr(p,"user.n"), sorted(os.listxattr(p)), os.listxattr(os.path.dirname(p)))\n'
    + 'try: os.getxattr(p,"user.none")\nexcept OSError as e: print("errno", e.errno)';

  it('getxattr/listxattr on the sandbox root match native', () => {
    const want = native(['python3', '-c', SHOW, file()]);
    expect(want.status).toBe(0);
    expect(want.stdout).toContain("b'blue'");
    const got = sandboxed(['python3', '-c', SHOW, file()]);
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(want.stdout);
    expect(got.status).toBe(0);
  });

  it('setxattr/removexattr on a writable --volume reach the host file', () => {
    const got = sandboxed(['python3', '-c',
      'import os; p="/vol/f.txt"; os.setxattr(p, "user.inside", b"set in sandbox"); os.removexattr(p, "user.colour"); print(sorted(os.listxattr(p)))'],
    { flags: ['--volume', `${dir}:/vol`] });
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe("['user.inside', 'user.n']\n");
    const host = native(['python3', '-c', 'import os,sys; print(os.getxattr(sys.argv[1], "user.inside"), sorted(os.listxattr(sys.argv[1])))', file()]);
    expect(host.stdout).toBe("b'set in sandbox' ['user.inside', 'user.n']\n");
  });

  it('a read-only --volume refuses setxattr with EROFS', () => {
    const got = sandboxed(['python3', '-c',
      'import os\ntry: os.setxattr("/vol/f.txt", "user.ro", b"x")\nexcept OSError as e: print("errno", e.errno)'],
    { flags: ['--volume', `${dir}:/vol:ro`] });
    expect(got.stdout).toBe('errno 30\n');
    const host = native(['python3', '-c', 'import os,sys; print("user.ro" in os.listxattr(sys.argv[1]))', file()]);
    expect(host.stdout).toBe('False\n');
  });
});
