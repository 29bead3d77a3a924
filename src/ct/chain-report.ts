/** Types shared by chain validation (Node) and the pure commitment checker (also in the browser). */
/** What `emblem ct check` reports about the chain stored with an entry (only validated chains get this far). */
export interface ChainReport {
  /** Certificates (RFC 6962 extra_data) or issuer fingerprints (static-ct) stored with the entry. */
  length: number;
  /** Subject of the first chain certificate. */
  issuer?: string;
  /** Whether that certificate's key verifies the logged certificate's signature (always true once validated). */
  issuerSignatureValid?: boolean;
  /** The chain passed validation: signatures, CA flags and keyCertSign, validity at the entry's timestamp, root. */
  valid: true;
  /** The root the chain ends at (one the log accepts). */
  root: string;
  /** The trust-store CA it leads to, when a trust store is used. */
  trustAnchor?: string;
}

/** Fetchers the validator needs for one log (bound to its clients by the commitment checker). */
export interface LogChainSource {
  /** get-roots (RFC 6962 url, or the static-ct submission prefix). */
  roots(): Promise<Uint8Array[]>;
  /** static-ct only: the issuer certificate with this SHA-256 fingerprint (hash verified by the fetcher). */
  issuer?(fingerprint: Uint8Array): Promise<Uint8Array>;
}

