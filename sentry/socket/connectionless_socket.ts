// Sockets without connections (UDP, ping, netlink): listen and accept are not theirs.

import { E } from '../abi/errno.js';
import { err, type Result } from '../abi/result.js';
import { SocketFile, type Accepted } from './socket_file.js';

/** A SocketFile whose listen(2) and accept(2) fail with EOPNOTSUPP, as Linux's dgram/raw protocols answer. */
export abstract class ConnectionlessSocket extends SocketFile {
  override listen(): Result<void> {
    return err(E.EOPNOTSUPP);
  }

  override accept(): Result<Accepted> {
    return err(E.EOPNOTSUPP);
  }
}
