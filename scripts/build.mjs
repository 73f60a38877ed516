// Bundles the CLI (which contains the Sentry) into one file so each process starts fast.
import { build } from 'esbuild';

await build({
  entryPoints: ['runsc-cli/main.ts'],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  outfile: 'dist/tsvisor.mjs',
  sourcemap: 'linked',
  logLevel: 'warning',
  banner: { js: "import { createRequire as __tsvisorCreateRequire } from 'node:module'; const require = __tsvisorCreateRequire(import.meta.url);" },
});
