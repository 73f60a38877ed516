// The netstack's public surface for the socket layer and the sandbox's network setup.

export { Stack, type StackOptions, type IcmpEvent } from './stack.js';
export { TcpEndpoint, SHUT_RD, SHUT_WR, SHUT_RDWR, type TcpState, type TcpInfo, type TcpSocketOptions } from './tcp/endpoint.js';
export { DEFAULT_TCP_CONFIG, type TcpConfig } from './tcp/protocol.js';
export { UdpEndpoint, type UdpMessage, type UdpOptions } from './udp.js';
export { EV_IN, EV_PRI, EV_OUT, EV_ERR, EV_HUP, EV_RDHUP, type ReadinessListener } from './events.js';
export type { LinkEndpoint } from './link/link.js';
export { LoopbackLink } from './link/loopback.js';
export { ChannelLink } from './link/channel.js';
export { VirtualWire, type WireOptions } from './link/wire.js';
export { parseIPv4, formatIPv4, parseMac, formatMac, type Ipv4Addr, type MacAddr } from './addr.js';
export type { NetStats } from './stats.js';
