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
  /** UDP sockets the resolver client keeps per address family: enough that a scan's thousands of queries in flight
   *  rarely need a private socket for a repeated 16-bit ID, few enough that opening them costs nothing. */
  resolverSocketsPerFamily: 8,
  /** Queries a resolver client socket carries before it is retired for a fresh one (a new source port), so an
   *  off-path spoofer never gets a long-lived port to aim at. */
  resolverQueriesPerSocket: 256,
  /** Socket buffers asked for the batched resolver client's sockets: a burst of 64-query batches from a few
   *  thousand targets in flight must not overflow them (the kernel caps them at net.core.[rw]mem_max). */
  resolverSocketBufferBytes: 1024 * 1024,
  /** Concurrent TCP connections a server accepts (`--tcp-max-connections`). At the cap the connection idle the
   *  longest is evicted for a newcomer; when none is idle the newcomer is closed (slowloris bound). */
  maxTcpConnections: 256,
  /** Concurrent TCP connections from one address (`--tcp-max-per-address`): one address cannot take every slot.
   *  A resolver needs a handful; 64 leaves room for a NAT or a large resolver farm's egress address. */
  maxTcpConnectionsPerAddress: 64,
  /** A TCP connection that completes no query (and drains no answer) for this long is closed (`--tcp-idle-timeout`;
   *  RFC 7766 §6.2.3 suggests seconds, not minutes; Knot's tcp-idle-timeout is also 10 s). Whole messages count,
   *  not bytes, so a client trickling one byte at a time is idle. */
  tcpIdleTimeoutMs: 10_000,
  /** A connection must have completed no query for this long before it can be evicted for a newcomer: a client
   *  whose query is still on its way is not idle. */
  tcpEvictableIdleMs: 1_000,
  /** Answer bytes queued in user space for one TCP connection before it stops being read: a client that sends
   *  queries but never reads the answers (backpressure, RFC 7766 §6.2.2). */
  tcpOutputPauseBytes: 64 * 1024,
  /** Hard cap of queued answer bytes per connection (pause bytes + one largest answer, rounded up); above it the
   *  connection is closed. Pausing keeps connections below it; the check guards the invariant. */
  tcpMaxPendingOutputBytes: 256 * 1024,
  /** Queued answer bytes over all TCP connections; above it the connection with the largest backlog is closed.
   *  256 connections x ~130 KiB each fits; this bounds the server's memory under a non-reading flood. */
  tcpMaxPendingOutputBytesTotal: 32 * 1024 * 1024,
  /** Longest life of one TCP connection, however active (slowloris bound together with the connection cap). */
  tcpMaxConnectionMs: 60_000,
  /** Most queries answered on one TCP connection before it is closed. */
  maxQueriesPerTcpConnection: 1_000,
  /** Response rate limiting over UDP (`--rrl-responses-per-second`, `--rrl-slip`): identical responses per second
   *  to one client network before they are dropped or slipped (TC=1). NSD's default is 200; BIND suggests 5..20 for
   *  busy servers. 0 turns it off (load tests from one address). RRL never applies to TCP (not spoofable). */
  defaultRrlResponsesPerSecond: 200,
  /** Every Nth rate-limited response is sent truncated (TC=1, no records) instead of dropped, so a real client
   *  behind a spoofed flood retries over TCP (NSD, Knot and BIND default to 2). 0 = drop all. */
  defaultRrlSlip: 2,
  /** Client networks RRL groups together (BIND defaults): spoofed floods vary the low bits. */
  rrlIpv4PrefixBits: 24,
  rrlIpv6PrefixBits: 56,
  /** RRL buckets kept; when full, buckets untouched for a second are pruned (they would be full again anyway). */
  maxRrlBuckets: 100_000,
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
