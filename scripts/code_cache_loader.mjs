// dist/tsvisor.mjs: loads the bundled CLI (dist/tsvisor.cjs, or for `gofer` the Gofer's own
// dist/tsvisor-gofer.cjs) through V8's code cache, so a process skips parsing the bundle
// and compiling the functions its role ran when the build trained the cache
// (scripts/build.mjs). Each role (the `do` parent, the Sentry child, the Gofer) has its own
// cache, keyed by the bundle's hash; a missing or rejected cache only means compiling as
// usual. Everything is read before the process confines itself.
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

/** Training (build time only): the Gofer gets no environment, so its flag comes on argv. */
const TRAIN_FLAG = '--code-cache-train=';

function load() {
  const dir = dirname(fileURLToPath(import.meta.url));
  let train = process.env.TSVISOR_CODE_CACHE_TRAIN;
  if (process.argv[2]?.startsWith(TRAIN_FLAG)) train = process.argv.splice(2, 1)[0].slice(TRAIN_FLAG.length);
  const role = process.argv[2] === '--sentry-child' ? 'sentry' : process.argv[2] === 'gofer' ? 'gofer' : 'cli';
  const file = join(dir, role === 'gofer' ? 'tsvisor-gofer.cjs' : 'tsvisor.cjs');
  const bytes = readFileSync(file);
  // The wrapper keeps the file's line numbers for stack traces and the source map.
  const source = `(function (exports, require, module, __filename, __dirname) {${bytes.toString('utf8')}\n})`;
  // Named by the bundle's content: a cache never meets another build's bundle.
  const name = `${createHash('sha1').update(bytes).digest('hex').slice(0, 20)}-${role}.bin`;
  let cachedData;
  if (train === undefined) {
    try {
      cachedData = readFileSync(join(dir, 'cache', name));
    } catch {
      // No cache for this build: compile as usual.
    }
  }
  const script = new Script(source, { filename: file, cachedData });
  if (train !== undefined) {
    // Opened now: later the Sentry and the Gofer are confined and open nothing.
    const fd = openSync(join(train, name), 'w');
    let save = () => {
      save = () => {};
      writeSync(fd, script.createCachedData());
      closeSync(fd);
    };
    process.on('exit', () => save());
    // `do`'s parent execs a waiter (sentry/confine/sentry_process.ts) and the Gofer dies with
    // the Sentry (SIGKILL): neither reaches 'exit'. The Gofer saves once the training run's
    // requests are served.
    process.on('tsvisor:exec', () => save());
    if (role === 'gofer') setTimeout(() => save(), 1000).unref();
  }
  return { run: script.runInThisContext(), file, dir };
}

const { run, file, dir } = load();
const module = { exports: {} };
run(module.exports, createRequire(file), module, file, dir);
