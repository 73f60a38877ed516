// Typed access to the native addon (native/addon.c). Every call returns -errno on failure.

import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface NativeAddon {
  memfileCreate(size: number, chunk: number): [number, ...ArrayBuffer[]] | number;
  memfilePunch(fd: number, off: number, len: number): number;
  stubSpawn(path: string, memfd: number): number;
  getRegs(tid: number, buf: Uint8Array): number;
  setRegs(tid: number, buf: Uint8Array): number;
  getFpregs(tid: number, buf: Uint8Array): number;
  setFpregs(tid: number, buf: Uint8Array, len: number): number;
  getSiginfo(tid: number, buf: Uint8Array): number;
  getEventMsg(tid: number): number;
  resume(tid: number, mode: number, sig: number): number;
  tgkill(tgid: number, tid: number, sig: number): number;
  kill(pid: number, sig: number): number;
  inject(tid: number, nr: number, a0: number, a1: number, a2: number, a3: number, a4: number, a5: number): [number, number] | number;
  injectBatch(tid: number, calls: Float64Array, results: Float64Array, n: number): number;
  waitStopped(tid: number): number;
  waiterStart(cb: () => void): number;
  waiterArm(): number;
  waiterRef(on: number): number;
  waitAll(out: Int32Array, spinUs: number): number;
  seccompInstall(filter: Uint8Array): number;
  hwcap(): number;
  closeFd(fd: number): number;
  STUB_SYSCALL_ADDR: number;
  /** CPU time (ns) of a stub process via its host process CPU clock (native/cpuclock.c). */
  cpuClockNs?(pid: number): number;
  /** The vDSO clock's parameter page and host clock samples (native/vdso_clock.c). */
  vdsoClockAttach(page: Uint8Array): number;
  vdsoClockRead(clk: number): bigint | undefined;
  vdsoClockSample(out: BigInt64Array): number;
  hostClockNs(clk: number): bigint | number;
}

/** The directory holding build/Release, found upward from this module (source or bundle). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'native'))) return dir;
    dir = resolve(dir, '..');
  }
  throw new Error('tsvisor: cannot find the package root (native/ and package.json)');
}

let addon: NativeAddon | undefined;

export function native(): NativeAddon {
  if (addon === undefined) {
    const path = join(packageRoot(), 'build', 'Release', 'tsvisor_native.node');
    if (!existsSync(path)) throw new Error(`tsvisor: native addon missing at ${path}; run npm ci (or npm run build)`);
    addon = createRequire(import.meta.url)(path) as NativeAddon;
  }
  return addon;
}

export function stubPath(): string {
  return join(packageRoot(), 'build', 'Release', 'tsvisor-stub');
}
