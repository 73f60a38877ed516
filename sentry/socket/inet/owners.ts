// Which socket holds a netstack endpoint, for /proc/net/{tcp,udp}{,6}: the endpoint knows
// only addresses, while the listing shows the owner's uid, the socket inode and its family.

export interface EndpointOwner {
  uid: number;
  /** The socket's inode number as fstat() shows it to the app. */
  ino: bigint;
  /** Opened as AF_INET6 (listed in the *6 files with v4-mapped addresses). */
  v6: boolean;
  /** The IPv4 half of a dual-stack socket, left out of listings (its IPv6 half shows the socket). */
  hidden?: boolean;
}

const owners = new WeakMap<object, EndpointOwner>();

/** Records (or replaces, when an AF_INET6 socket wraps an AF_INET one) an endpoint's owner. */
export function setEndpointOwner(ep: object, o: EndpointOwner): void {
  owners.set(ep, o);
}

/** The owner of an endpoint; undefined for sockets no file holds (TIME_WAIT, not yet accepted). */
export function endpointOwner(ep: object): EndpointOwner | undefined {
  return owners.get(ep);
}
