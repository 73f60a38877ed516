// `npm run bench`: bundles the TypeScript runner (bench/src) with esbuild, then runs it.
import { build } from 'esbuild';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'node_modules', '.cache', 'tsvisor-bench', 'bench.mjs');
await build({ entryPoints: [join(root, 'bench', 'src', 'main.ts')], bundle: true, platform: 'node', target: 'node20', format: 'esm', outfile: out, logLevel: 'warning' });
process.env.TSVISOR_BENCH_ROOT = root;
await import(pathToFileURL(out).href);
