/** Bounds on what the browser extension reads or waits for, each with its reason (DNS message bounds: src/dns/limits.ts). */
export const BrowserLimits = {
  /** One DoH request: a public resolver answers in well under a second; 5 s covers a slow mobile link without
   *  leaving the badge on "checking" for long. */
  dohTimeoutMs: 5_000,
  /** A name holds at most 127 labels (255 octets), so more compression-pointer jumps than that can only be a loop. */
  maxCompressionJumps: 127,
  /** Pasted or uploaded trust material: the same cap as a trust store file read by the CLI (src/trust/store.ts). */
  maxTrustImportBytes: 4 * 1024 * 1024,
} as const;

/** Bounds of the browser's CT commitment checker (responses, proofs and certificates: src/ct/limits.ts, reused). */
export const BrowserCtLimits = {
  /** A pasted or uploaded log list: Google's v3 list is ~80 KB, the CLI accepts up to CtLimits.maxLogListBytes. */
  maxLogListBytes: 4 * 1024 * 1024,
  /** Most distinct log origins the extension asks host permission for (Google's list names ~60 logs). */
  maxLogOrigins: 256,
  /** Imported WebCrypto keys kept per service worker lifetime (one per listed log is enough). */
  maxCachedKeys: 256,
} as const;
