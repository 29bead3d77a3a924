/**
 * Bounds on what CT logs and log lists may send us. Logs are remote parties and may be hostile or broken; every
 * response is read through these limits. (Adapter-local; candidates to move into core/limits.ts.)
 */
export const CtLimits = {
  /** Largest log list accepted. Google's v3 list is ~80 KB, Apple's ~120 KB; all_logs_list.json ~200 KB. */
  maxLogListBytes: 4 * 1024 * 1024,
  /** Largest JSON answer from an RFC 6962 endpoint other than get-entries (STH, proofs: < 4 KB). */
  maxJsonResponseBytes: 64 * 1024,
  /** Largest get-entries answer for one entry: a certificate chain of a few certs, base64 inflated (~20 KB). */
  maxEntriesResponseBytes: 1024 * 1024,
  /** Largest checkpoint note; real ones are ~200-400 bytes. */
  maxCheckpointBytes: 16 * 1024,
  /** A full hash tile is exactly 256 * 32 bytes. */
  maxHashTileBytes: 256 * 32,
  /** A data tile holds 256 entries of up to a few KB each (precert TBS + fingerprints); 8 MiB is generous. */
  maxDataTileBytes: 8 * 1024 * 1024,
  /** Most hashes in an audit/consistency path: a tree of 2^63 leaves needs 63; logs hold < 2^40. */
  maxProofHashes: 64,
  /** Largest tree size believed (2^53 - 1 is where JS numbers stop being exact). */
  maxTreeSize: Number.MAX_SAFE_INTEGER,
  /** Per-request timeout; a log that takes longer is reported unreachable rather than hanging a bulk scan. */
  requestTimeoutMs: 10_000,
  /** Largest certificate accepted in a log entry or chain file. */
  maxCertificateBytes: 64 * 1024,
  /** Most certificates in a chain (file, get-entries extra_data, add-chain request). */
  maxChainLength: 10,
  /** Most SCTs in one certificate; browsers need 2-3, anything beyond 32 is junk. */
  maxSctsPerCertificate: 32,
  /** Largest add-chain / add-pre-chain request body the local log accepts. */
  maxSubmissionBytes: 256 * 1024,
  /**
   * Largest get-roots answer. Logs accept the union of the browsers' root programs: a few hundred roots of ~1.5 KB,
   * base64-inflated (Google's logs answer ~0.5-1 MB); 4 MiB leaves room without letting a log make us buffer more.
   */
  maxRootsResponseBytes: 4 * 1024 * 1024,
  /** Most roots taken from one get-roots answer (a few hundred in practice). */
  maxLogRoots: 2048,
  /** Most certificates read from a trust store (--ca-bundle): Debian's bundle has ~150, Windows' store ~400. */
  maxTrustStoreCertificates: 2048,
  /** Largest trust store file read (Debian's ca-certificates.crt is ~220 KB). */
  maxTrustStoreBytes: 8 * 1024 * 1024,
  /** Most entries one get-entries request of the local log returns. */
  maxEntriesPerRequest: 256,
  /** Largest offline CT bundle read (`--ct-bundle`): two log lists plus, per entry, a tree head, a proof and an
   *  entry (RFC 6962, a few KB) or a few tiles (static-ct: a data tile can reach maxDataTileBytes). */
  maxBundleBytes: 128 * 1024 * 1024,
  /** Most recorded log answers in one offline bundle; a set needs a handful per log entry. */
  maxBundleResponses: 10_000,
} as const;
