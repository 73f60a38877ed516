#!/usr/bin/env python3
"""Regenerates sentry/abi/{sysno,errno}.ts from the kernel UAPI headers on this machine."""
import re

def gen_sysno():
    src = open('/usr/include/x86_64-linux-gnu/asm/unistd_64.h').read()
    names = re.findall(r'#define __NR_(\w+)\s+(\d+)', src)
    out = ["// Generated from <asm/unistd_64.h> by scripts/gen-abi.py; x86-64 syscall numbers.", ""]
    out.append("export const SYS = {")
    out += [f"  {n}: {v}," for n, v in names]
    out.append("} as const;\n")
    out.append("/** Syscall names indexed by number (undefined for holes). */")
    out.append("export const SYSCALL_NAMES: readonly (string | undefined)[] = (() => {")
    out.append("  const a: (string | undefined)[] = [];")
    out.append("  for (const [k, v] of Object.entries(SYS)) a[v] = k;")
    out.append("  return a;")
    out.append("})();")
    open('sentry/abi/sysno.ts', 'w').write("\n".join(out) + "\n")

def gen_errno():
    errs = []
    for f in ['/usr/include/asm-generic/errno-base.h', '/usr/include/asm-generic/errno.h']:
        errs += [(n, int(v)) for n, v in re.findall(r'#define\s+(E\w+)\s+(\d+)', open(f).read())]
    out = ["// Generated from <asm-generic/errno*.h> by scripts/gen-abi.py; Linux errno values.", ""]
    out.append("export const E = {")
    out += [f"  {n}: {v}," for n, v in errs]
    out.append("} as const;\n")
    out.append("/** Errno names indexed by value. */")
    out.append("export const ERRNO_NAMES: readonly (string | undefined)[] = (() => {")
    out.append("  const a: (string | undefined)[] = [];")
    out.append("  for (const [k, v] of Object.entries(E)) if (a[v] === undefined) a[v] = k;")
    out.append("  return a;")
    out.append("})();")
    open('sentry/abi/errno.ts', 'w').write("\n".join(out) + "\n")

gen_sysno()
gen_errno()
