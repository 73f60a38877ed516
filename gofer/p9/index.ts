// The 9P2000.L layer shared by the Gofer (server) and the Sentry (client).
export * from './constants.js';
export * from './messages.js';
export {
  encode,
  decode,
  encodeRlerror,
  kindOfType,
  direntSize,
  direntsThatFit,
  maxIoSize,
  DIRENT_MIN_SIZE,
} from './codec.js';
export { Framer, type FramerOutput } from './framer.js';
export { P9ProtocolError, isProtocolError } from './errors.js';
export { WireReader, WireWriter, QID_SIZE } from './wire.js';
export { P9Client, type ClientOptions, type OpenResult, type WalkResult, type ReplyTo } from './client.js';
export { negotiateVersion, type VersionDecision } from './version.js';
