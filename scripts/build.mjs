// Bundles the CLI (which contains the Sentry) into dist/tsvisor.cjs and the Gofer alone into
// dist/tsvisor-gofer.cjs; dist/tsvisor.mjs loads them through V8 code caches that this
// script trains by running one sandbox, so each process starts without parsing or compiling
// what its role runs. Without the native addon (or if that run fails) there are no caches
// and every process compiles as usual.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'linked',
  logLevel: 'warning',
  // native.ts finds the package root from its own URL.
  define: { 'import.meta.url': '__tsvisorImportMetaUrl' },
  banner: { js: "const __tsvisorImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
};
await build({ ...common, entryPoints: ['runsc-cli/main.ts'], outfile: 'dist/tsvisor.cjs' });
await build({ ...common, entryPoints: ['gofer/process_main.ts'], outfile: 'dist/tsvisor-gofer.cjs' });
copyFileSync('scripts/code_cache_loader.mjs', 'dist/tsvisor.mjs');

/** The key dist/tsvisor.mjs looks a bundle's caches up by. */
const key = (file) => createHash('sha1').update(readFileSync(file)).digest('hex').slice(0, 20);
const caches = { cli: key('dist/tsvisor.cjs'), sentry: key('dist/tsvisor.cjs'), gofer: key('dist/tsvisor-gofer.cjs') };

// Caches of earlier builds (and the chunks of an older layout) go once no starting process
// can still be reading them.
mkdirSync('dist/cache', { recursive: true });
for (const sub of ['dist/cache', 'dist/chunks']) {
  if (!existsSync(sub)) continue;
  for (const name of readdirSync(sub)) {
    const path = join(sub, name);
    const current = Object.entries(caches).some(([role, k]) => name === `${k}-${role}.bin`);
    if (!current && Date.now() - statSync(path).mtimeMs > 10 * 60_000) rmSync(path, { force: true, recursive: true });
  }
}

if (existsSync('build/Release/tsvisor_native.node') && process.env.TSVISOR_NO_CODE_CACHE === undefined) {
  const out = mkdtempSync(join(tmpdir(), 'tsvisor-code-cache-'));
  try {
    // Starting a dynamically linked program, the common path; it outlasts the Gofer's save.
    // (Training more paths makes every Sentry bigger: the cache's functions all load.)
    const r = spawnSync(process.execPath, ['dist/tsvisor.mjs', 'do', '--network=none', '--', '/bin/sleep', '1.3'], {
      env: { ...process.env, TSVISOR_CODE_CACHE_TRAIN: out }, stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000,
    });
    // Named by the bundle the training run loaded: none if a concurrent build replaced ours.
    const names = Object.entries(caches).map(([role, k]) => `${k}-${role}.bin`);
    const trained = (name) => existsSync(join(out, name)) && statSync(join(out, name)).size > 0;
    if (r.status === 0 && names.every(trained)) {
      // Renamed into place whole: a starting process sees a complete cache or none.
      for (const name of names) {
        const tmp = join('dist/cache', `.${name}.tmp`);
        copyFileSync(join(out, name), tmp);
        renameSync(tmp, join('dist/cache', name));
      }
    } else {
      process.stderr.write(`build: no code cache (training run: ${r.status ?? r.signal} ${String(r.stderr).trim().split('\n').at(-1) ?? ''})\n`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
