// A host directory as a Sentry filesystem: a Gofer started for it, a 9P session, a GoferFs.
// The path is only passed on to the Gofer (made absolute as a string): the Sentry itself
// never resolves or opens it.

import { resolve } from 'node:path';
import { isErr, type Result } from '../../abi/result.js';
import { GoferFs } from './gofer_fs.js';
import { goferSelftestRequested, startGofer } from './gofer_process.js';

export async function goferFilesystem(
  hostDir: string, opts: { readOnly: boolean; log?: (line: string) => void },
): Promise<Result<GoferFs>> {
  const root = resolve(hostDir);
  const s = await startGofer({ root, readOnly: opts.readOnly, selftestForbidden: goferSelftestRequested() });
  if (isErr(s)) return s;
  // Our Gofer answers a connection's requests in order (lookups and opens may be pipelined)
  // and fills each Rreaddir.
  const f = await GoferFs.create(s.client, s.rootFid, { readOnly: opts.readOnly, donations: s.donations, inOrder: true, readdirFills: true });
  if (isErr(f)) {
    s.client.close();
    return f;
  }
  void s.client.whenClosed.then(() => opts.log?.(`gofer for ${root} (pid ${s.pid}) is gone: its files now fail with EIO`));
  return f;
}
