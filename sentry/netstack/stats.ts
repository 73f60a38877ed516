// Drop and traffic counters. Every discarded input bumps one, so floods are visible, not fatal.

export interface NetStats {
  linkRx: number;
  linkTx: number;
  linkDropped: number;
  ethMalformed: number;
  ethNotForUs: number;
  ethUnknownType: number;
  arpMalformed: number;
  arpRequestsSent: number;
  arpRepliesSent: number;
  arpResolveFailed: number;
  arpQueueDropped: number;
  ipRx: number;
  ipTx: number;
  ipMalformed: number;
  ipBadChecksum: number;
  ipBadTtl: number;
  ipNotForUs: number;
  ipNoRoute: number;
  ipUnknownProtocol: number;
  ipFragmentsRx: number;
  ipReassembled: number;
  ipReassemblyOverlap: number;
  ipReassemblyTimeout: number;
  ipReassemblyDropped: number;
  ipFragmentedTx: number;
  ipCantFragment: number;
  icmpRx: number;
  icmpMalformed: number;
  icmpEchoReplies: number;
  icmpUnreachSent: number;
  udpRx: number;
  udpMalformed: number;
  udpNoPort: number;
  udpRcvbufErrors: number;
  tcpRx: number;
  tcpTx: number;
  tcpMalformed: number;
  tcpNoEndpoint: number;
  tcpRstSent: number;
  tcpSynQueueFull: number;
  tcpAcceptQueueFull: number;
  tcpRetransmits: number;
  tcpTimeouts: number;
  tcpFastRetransmits: number;
  tcpChallengeAcks: number;
  tcpOutOfWindow: number;
  tcpDropped: number;
}

export function newStats(): NetStats {
  return {
    linkRx: 0, linkTx: 0, linkDropped: 0,
    ethMalformed: 0, ethNotForUs: 0, ethUnknownType: 0,
    arpMalformed: 0, arpRequestsSent: 0, arpRepliesSent: 0, arpResolveFailed: 0, arpQueueDropped: 0,
    ipRx: 0, ipTx: 0, ipMalformed: 0, ipBadChecksum: 0, ipBadTtl: 0, ipNotForUs: 0, ipNoRoute: 0,
    ipUnknownProtocol: 0, ipFragmentsRx: 0, ipReassembled: 0, ipReassemblyOverlap: 0,
    ipReassemblyTimeout: 0, ipReassemblyDropped: 0, ipFragmentedTx: 0, ipCantFragment: 0,
    icmpRx: 0, icmpMalformed: 0, icmpEchoReplies: 0, icmpUnreachSent: 0,
    udpRx: 0, udpMalformed: 0, udpNoPort: 0, udpRcvbufErrors: 0,
    tcpRx: 0, tcpTx: 0, tcpMalformed: 0, tcpNoEndpoint: 0, tcpRstSent: 0, tcpSynQueueFull: 0,
    tcpAcceptQueueFull: 0, tcpRetransmits: 0, tcpTimeouts: 0, tcpFastRetransmits: 0,
    tcpChallengeAcks: 0, tcpOutOfWindow: 0, tcpDropped: 0,
  };
}
