// PidNamespace: ids per namespace level, visibility, release, and the NSpid chain.

import { describe, expect, it } from 'vitest';
import { PidNamespace } from '../../sentry/kernel/pid_namespace.js';
import { MountNamespace, Mount } from '../../sentry/vfs/mount.js';
import { TmpFs } from '../../sentry/fs/tmpfs/tmpfs.js';

describe('PidNamespace', () => {
  it('numbers members from 1 at each level and hides them from no ancestor', () => {
    const root = new PidNamespace(undefined, 1);
    const child = new PidNamespace(root, 2);
    const grand = new PidNamespace(child, 3);
    expect(child.assign(40)).toBe(1);
    expect(grand.assign(41)).toBe(1);
    expect(child.idOf(41)).toBe(2);
    expect(root.idOf(41)).toBe(41);
    expect(grand.idOf(40)).toBe(0);
    expect(child.globalOf(2)).toBe(41);
    expect(grand.chain(root, 41)).toEqual([41, 2, 1]);
    expect(grand.chain(child, 41)).toEqual([2, 1]);
    expect(root.contains(grand)).toBe(true);
    expect(grand.contains(child)).toBe(false);
  });

  it('forgets released ids at every level and never reuses a number', () => {
    const root = new PidNamespace(undefined, 1);
    const child = new PidNamespace(root, 2);
    child.assign(10);
    child.release(10);
    expect(child.idOf(10)).toBe(0);
    expect(child.globalOf(1)).toBeUndefined();
    expect(child.assign(11)).toBe(2);
  });
});

describe('MountNamespace', () => {
  it('copies the tree: later mounts in one copy are invisible to the other', () => {
    const root = new Mount(new TmpFs({}), null, null, false);
    const ns = new MountNamespace(100, root);
    expect(root.ns).toBe(ns);
    const { ns: copy, map } = ns.copy(101);
    expect(copy.ino).toBe(101);
    const croot = map.get(root);
    expect(croot).toBeDefined();
    expect(croot?.ns).toBe(copy);
    expect(croot).not.toBe(root);
    expect(MountNamespace.remap({ mount: root, dentry: root.root }, map).mount).toBe(croot);
  });
});
