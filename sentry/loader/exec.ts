// execve's loader: resolves "#!" scripts, reads the ELF and its interpreter, then builds the
// new address space and initial stack. Every check that can fail with an errno runs before
// the first mapping, so a failed exec leaves only a discarded LoaderMemory behind.

import { E } from '../abi/errno.js';
import { err, isErr, type Result } from '../abi/result.js';
import { ELF_HEADER_SIZE, hasElfMagic, readElf, type ElfImage } from './elf.js';
import { loadProgram } from './load_elf.js';
import { BINPRM_BUF_SIZE, isScript, parseShebang } from './script.js';
import { DEFAULT_STACK_RLIMIT, checkArgLimits, mapStack, writeInitialStack } from './stack.js';
import type { ExecFile, LoaderMemory } from './types.js';

/** Linux's exec_binprm gives up with ELOOP past this many interpreter rewrites. */
export const MAX_SCRIPT_DEPTH = 5;

export interface ExecRequest {
  filename: string;
  argv: string[];
  envp: string[];
  /** Opens a path as execve would (relative to the caller's cwd, following symlinks). */
  open(path: string): Promise<Result<ExecFile>>;
  mem: LoaderMemory;
  random16: Uint8Array;
  hwcap: number;
  uid: number;
  euid: number;
  gid: number;
  egid: number;
  hwcap2?: number;
  /** AT_MINSIGSTKSZ: the signal frame size the Sentry's signal delivery uses. */
  minsigstksz?: number;
  /** AT_SYSINFO_EHDR, once we provide a vDSO. */
  sysinfoEhdr?: number;
  /** RLIMIT_STACK soft limit in bytes (bounds argument space); default 8 MiB. */
  stackRlimit?: number;
  /** Extra auxv entries placed before AT_NULL. */
  extraAux?: ReadonlyArray<readonly [number, number]>;
}

export interface ExecImage {
  /** Where the new program starts: the interpreter's entry when there is one. */
  entry: number;
  sp: number;
  /** AT_EXECFN: the filename execve was given (the script's, for a script). */
  execfn: string;
  /** PT_INTERP path, when the ELF has one. */
  interpreter?: string;
  /** argv as the program sees it (after "#!" rewriting; [""] for an empty argv). */
  argv: string[];
  /** The ELF file that was mapped (the interpreter of a script), for /proc/[pid]/exe. */
  exe: ExecFile;
  exePath: string;
  auxv: ReadonlyArray<readonly [number, number]>;
  argStart: number;
  argEnd: number;
  envStart: number;
  envEnd: number;
  brkBase: number;
  execStack: boolean;
}

async function openExec(req: ExecRequest, path: string): Promise<Result<ExecFile>> {
  // Linux 6.x resolves an empty interpreter name ("#!" alone) to the cwd, a directory: EACCES.
  if (path === '') return err(E.EACCES);
  const f = await req.open(path);
  if (isErr(f)) return f;
  if (!f.executable) return err(E.EACCES);
  return f;
}

/** The interpreter's headers; a malformed interpreter is ELIBBAD (a short header EIO), as in Linux. */
function readInterpreter(file: ExecFile): Result<ElfImage> {
  if (file.size < ELF_HEADER_SIZE) return err(E.EIO);
  const elf = readElf(file, { wantInterp: false });
  if (isErr(elf)) return elf.errno === E.ENOEXEC ? err(E.ELIBBAD) : elf;
  return elf;
}

/**
 * Loads the program named by req.filename into req.mem, as execve does. Errors: ENOENT,
 * EACCES (not executable), E2BIG, ENOEXEC (unknown format / bad ELF), ELOOP (scripts nested
 * too deep), ELIBBAD (bad interpreter), and whatever open or the memory manager return.
 */
export async function loadExecutable(req: ExecRequest): Promise<Result<ExecImage>> {
  if (req.random16.length !== 16) return err(E.EINVAL);
  const rlimit = req.stackRlimit ?? DEFAULT_STACK_RLIMIT;
  let path = req.filename;
  let file = await openExec(req, path);
  if (isErr(file)) return file;

  // Linux guarantees argc >= 1 by adding an empty argv[0].
  let argv = req.argv.length === 0 ? [''] : [...req.argv];
  const limits = (): Result<void> =>
    checkArgLimits({ execfn: req.filename, argv, envp: req.envp }, req.argv.length, req.envp.length, rlimit);
  const l = limits();
  if (isErr(l)) return l;

  for (let depth = 0; ; depth++) {
    if (depth > MAX_SCRIPT_DEPTH) return err(E.ELOOP);
    const head = file.readAt(0, BINPRM_BUF_SIZE);
    if (isErr(head)) return head;
    if (!isScript(head)) {
      if (!hasElfMagic(head)) return err(E.ENOEXEC);
      break;
    }
    const sb = parseShebang(head);
    if (isErr(sb)) return sb;
    // argv[0] is replaced by: interpreter, its optional argument, the script's path.
    argv = [sb.interpreter, ...(sb.arg !== undefined ? [sb.arg] : []), path, ...argv.slice(1)];
    const l2 = limits();
    if (isErr(l2)) return l2;
    path = sb.interpreter;
    const next = await openExec(req, path);
    if (isErr(next)) return next;
    file = next;
  }

  const elf = readElf(file);
  if (isErr(elf)) return elf;
  let interp: { file: ExecFile; elf: ElfImage } | undefined;
  if (elf.interp !== undefined) {
    const ifile = await openExec(req, elf.interp);
    if (isErr(ifile)) return ifile;
    const ielf = readInterpreter(ifile);
    if (isErr(ielf)) return ielf;
    interp = { file: ifile, elf: ielf };
  }

  // The stack goes in first, as in Linux, so the mm's top-down placement of loaders avoids it.
  const mem = req.mem;
  const s = mapStack(mem, elf.execStack);
  if (isErr(s)) return s;
  const loaded = loadProgram(mem, { file, elf }, interp);
  if (isErr(loaded)) return loaded;
  const stack = writeInitialStack(mem, {
    argv,
    envp: req.envp,
    execfn: req.filename,
    random16: req.random16,
    aux: {
      phdr: loaded.phdrAddr,
      phent: loaded.phent,
      phnum: loaded.phnum,
      base: loaded.base,
      entry: loaded.entry,
      uid: req.uid,
      euid: req.euid,
      gid: req.gid,
      egid: req.egid,
      hwcap: req.hwcap,
      hwcap2: req.hwcap2,
      minsigstksz: req.minsigstksz,
      sysinfoEhdr: req.sysinfoEhdr,
      extra: req.extraAux,
    },
  });
  if (isErr(stack)) return stack;

  return {
    entry: loaded.startAddr,
    sp: stack.sp,
    execfn: req.filename,
    interpreter: elf.interp,
    argv,
    exe: file,
    exePath: path,
    auxv: stack.auxv,
    argStart: stack.argStart,
    argEnd: stack.argEnd,
    envStart: stack.envStart,
    envEnd: stack.envEnd,
    brkBase: loaded.brkBase,
    execStack: loaded.execStack,
  };
}
