/**
 * Bounds on everything the DNS adapter reads from the network or from zone files, with the reason for each
 * value. (Kept here rather than in core/limits.ts because they only concern the DNS adapter; move them if a
 * second adapter needs them.)
 */
export const DnsLimits = {
  /** RFC 1035 §2.3.4: a name is at most 255 octets on the wire, a label at most 63. */
  maxNameWireBytes: 255,
  maxLabelBytes: 63,
  /** RFC 1035 §3.3: one character-string holds at most 255 octets. */
  maxCharacterStringBytes: 255,
  /** Largest DNS message (TCP length prefix is 16 bits). */
  maxMessageBytes: 65_535,
  /** EDNS(0) payload we advertise and answer within over UDP by default (DNS Flag Day 2020: avoids IP
   *  fragmentation on common paths). */
  defaultUdpPayload: 1232,
  /** Smallest UDP payload any client can receive (RFC 1035 §4.2.1); smaller EDNS values are raised to it. */
  minUdpPayload: 512,
  /** Most additional records read from a query: an OPT plus maybe a TSIG/SIG(0) and a cookie-bearing spare.
   *  Anything beyond is a malformed or hostile query (answered FORMERR without further work). */
  maxQueryAdditionalRecords: 4,
  /** Most records accepted in one response by the client; real ADEM answers hold fewer than 20. */
  maxResponseRecords: 512,
  /** Socket buffers asked for the server's UDP sockets (the kernel caps them at net.core.[rw]mem_max). */
  udpSocketBufferBytes: 4 * 1024 * 1024,
  /** Concurrent TCP connections a server accepts; more are closed at once (slowloris bound). */
  maxTcpConnections: 256,
  /** A TCP connection idle this long is closed (RFC 7766 §6.2.3 suggests seconds, not minutes). */
  tcpIdleTimeoutMs: 10_000,
  /** Longest life of one TCP connection, however active (slowloris bound together with the connection cap). */
  tcpMaxConnectionMs: 60_000,
  /** Most queries answered on one TCP connection before it is closed. */
  maxQueriesPerTcpConnection: 1_000,
  /** Cached encoded answers in the server; cleared when full so random names cannot grow memory. */
  maxCachedAnswers: 10_000,
  /** Error log lines per second before the server summarises instead (a flood of garbage must not flood the log). */
  maxErrorLogLinesPerSecond: 20,
  /** Zone files larger than this are refused; an ADEM zone is a few kilobytes. */
  maxZoneFileBytes: 16 * 1024 * 1024,
  /** Most records in one zone file. */
  maxZoneRecords: 200_000,
  /** Default client timeout per attempt and number of attempts per transport. */
  defaultQueryTimeoutMs: 3_000,
  defaultQueryAttempts: 2,
  /** Most nameservers tried from /etc/resolv.conf (glibc uses at most 3: MAXNS). */
  maxSystemNameservers: 3,
  /** Most distinct token sets (identifiers) taken from one name; more is an attack on validator time. */
  maxTokenSetsPerName: 16,
  /** Most ADEM records taken from one name. */
  maxEmblemRecordsPerName: 128,
} as const;
