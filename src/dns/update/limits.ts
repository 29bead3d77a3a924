/** Bounds of the RFC 2136 client (every bound lives in a limits file, with its reason). */
export const UpdateLimits = {
  /** A tsig-keygen file is ~100 bytes; anything near this is not a key file. */
  maxKeyFileBytes: 64 * 1024,
  /** Time to wait for the primary's answer to one UPDATE over TCP; a primary answers in milliseconds. */
  defaultTimeoutMs: 10_000,
  /** Records per UPDATE message: keeps each message well under 64 KiB (TCP length prefix) with IHLE tokens. */
  maxRecordsPerMessage: 40,
  /**
   * UPDATE messages of one phase (all additions, then all removals) in flight at once: the primary serialises
   * them per zone, but overlapping round trips keeps it busy (`npm run bench org`: withdrawing 1,000 assets from
   * Knot went from 4-5 s to 3 s on two cores); small enough not to look like a flood.
   */
  parallelMessages: 4,
  /** Bytes of one UPDATE message (the TCP length prefix is 16 bits). */
  maxMessageBytes: 65_535,
  /** Seconds of clock difference tolerated for TSIG (RFC 8945 §10 recommends 300). */
  fudgeSeconds: 300,
} as const;
