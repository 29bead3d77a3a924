/**
 * One observation as it is appended to the evidence log (one log entry = the UTF-8 JSON of this object).
 * Everything a third party needs to re-run the ADEM verification offline is inside: the raw DNS answers as they
 * arrived, the time used as `now`, and the report the observer produced.
 */
export interface ObservedAnswer {
  /** The question asked, e.g. "_emblem.clinic.example." / "TXT". */
  qname: string;
  qtype: string;
  /** The raw DNS response message as received (base64). */
  wire: string;
}

export interface ObservationRecord {
  v: 1;
  target: string;
  /** ISO-8601 UTC; the `now` of the verification. */
  time: string;
  /** The vantage point's name from the config, and the resolver it used (IP:PORT or DoH URL). */
  vantagePoint: string;
  resolver: string;
  answers: ObservedAnswer[];
  /** Set when the vantage point could not answer (timeout, SERVFAIL ...): not an incident by itself. */
  error?: { code: string; message: string };
  /** "ENDORSED-TRUSTED", "no-emblem", "nxdomain", "error", ... */
  status: string;
  /** The `emblem check --json` report for this observation. */
  report: unknown;
  /**
   * The public keys (JWK) the observer trusted out of band when it verified this observation (its config's
   * `trustedKeys` and `trustStore`): the replay of `evidence verify` uses exactly these, so a status such as
   * ENDORSED-TRUSTED can be recomputed, and the verifier of a bundle sees which authorities the observer pinned.
   * Absent when the observer pinned none (and in entries written before this field existed).
   */
  trustedKeys?: unknown[];
}
