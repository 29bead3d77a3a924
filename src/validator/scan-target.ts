import type { CheckReport } from '../dns/name-check.js';

/** DNS answers fetched by someone else (ZDNS), handed to the scan so that it sends no query at all. */
export interface PrefetchedRecords {
  /** RCODE of the TXT lookup as the prefetching tool reported it ("NOERROR", "NXDOMAIN", "SERVFAIL", "TIMEOUT"...). */
  rcode: string;
  /** TXT RDATA, character-strings already joined. */
  txtValues: Uint8Array[];
  /** IHLE RDATA (DNS-02), when the tool fetched that type. */
  ihleRdatas: Uint8Array[];
  /** A/AAAA answers, for JWS-era emblems whose assets are addresses. */
  addresses: string[];
}

/**
 * One line of input. `index` counts targets from 0 in input order and is how results, resume and the distributed
 * queue refer to a target; it depends only on the line structure of the input, never on its contents, so a resume
 * can skip lines without parsing them.
 */
export interface ScanTarget {
  index: number;
  /** The name as read (normalised later; an unusable name becomes an error result, not a crash). */
  name: string;
  prefetched?: PrefetchedRecords;
  /** Set when the line could not be read (too long, bad JSON): the result is an INPUT_INVALID error. */
  inputError?: string;
}

/** One output row: the `emblem check --json` object plus its input position. */
export interface ScanResult {
  index: number;
  report: CheckReport;
}
