/**
 * Every bound on attacker-controlled input, in one place, with the reason for its value.
 * Tokens, keys and DNS answers come from adversaries: each parser checks the relevant bound before work.
 */
export const Limits = {
  /** Longest token accepted (JWS compact text or CWT bytes). Live tokens are 0.8-1.4 KB; a P-521 jwk header
   *  plus many assets stays well under 16 KiB. */
  maxTokenBytes: 16 * 1024,
  /** Longest JWK / COSE_Key accepted. A P-521 JWK is ~300 bytes; RSA keys are not used by ADEM. */
  maxKeyBytes: 4 * 1024,
  /** Most tokens in one set. A set is one emblem plus its chain and external endorsements: real sets hold 2-4. */
  maxTokensPerSet: 64,
  /** Most keys in one set (adem-key records plus trusted keys). */
  maxKeysPerSet: 64,
  /** Longest endorsement chain from the emblem key to the root. Deep chains only cost validators time. */
  maxChainDepth: 16,
  /** Most assets in one emblem or constraint list. */
  maxAssetsPerToken: 256,
  /** Most `log` entries on one endorsement. */
  maxLogEntries: 16,
  /** Longest asset identifier text (a domain name is at most 253 octets; brackets and a prefix add a few). */
  maxIdentifierLength: 300,
  /** Deepest JSON/CBOR nesting accepted in a token; ADEM claims nest at most 3 levels. */
  maxNestingDepth: 8,
  /** Most lines / records read for one `verify` input, so garbage input ends quickly. */
  maxInputLines: 100_000,
  /** Longest single input line (a TXT record with quoting); longer lines are rejected unread. */
  maxInputLineBytes: 64 * 1024,
  /** Latest NumericDate (`exp`, `nbf`, `iat`, in seconds) accepted in a token: 9999-12-31T23:59:59Z. A JS Date
   *  holds at most 8.64e15 ms, and reports print dates as ISO 8601 with four-digit years; `exp: 1e300` used to
   *  pass the parser and crash every report that printed it ("Invalid time value"). No real token runs past 9999. */
  maxNumericDate: 253_402_300_799,
  /** Longest validity (`exp - nbf`) the signer writes, and the longest JWS `wnd` (--max-lifetime) it writes. The
   *  drafts state no upper bound but model emblems as short-lived and renewed; deployed tokens run about one year
   *  (SPEC-NOTES §1.9 item 6; the felixlinker set in interop/ runs 2026-04-08..2027-04-08). Five years leaves room for long-lived root endorsements while a typo such as
   *  `--lifetime 100000000d` is refused instead of producing a token no validator can read. Verification does not
   *  apply it (other signers' tokens are bounded by maxNumericDate only). */
  maxTokenLifetimeSeconds: 5 * 365 * 86_400,
  /** Most distinct errors kept in one report, so 10,000 garbage lines don't produce a 10,000-entry report. */
  maxReportedErrors: 100,
  /** Most emblems of a MULTIPLE_EMBLEMS set (only those naming an issuer: nothing else can reach ORGANIZATIONAL)
   *  verified alone to show a contested set's valid chain. A genuine set has one emblem; each extra one an attacker
   *  appends costs a chain build and possibly a commitment lookup, so the work stays bounded. */
  maxContestedEmblems: 8,
} as const;
