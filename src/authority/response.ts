import { EmblemError } from '../core/errors.js';
import { parseOrganizationIdentifier } from '../core/identifiers/organization.js';
import { parsePublicJwk } from '../core/tokens/keys.js';
import { AuthorityLimits } from './limits.js';
import { parseConstraints, type RequestedConstraints } from './request.js';

export const RESPONSE_TYPE = 'adem-endorsement-response';

/**
 * What an authority sends back: the endorsement token(s) of the organisation's root key and the authority's
 * public key (published next to the token so validators find it by kid), with the record's facts in clear.
 */
export interface EndorsementResponse {
  version: 1;
  type: typeof RESPONSE_TYPE;
  id: string;
  authority: string;
  organization: string;
  kid: string;
  coseKid: string;
  constraints: RequestedConstraints;
  issued: string;
  expires: string;
  authorityKey: JsonWebKey;
  /** `cwt`: the CORE-02 CWT endorsement (hex of its CBOR), when the request asked for the CWT era. */
  endorsements: { jws: string; cwt?: string };
  renewedFrom?: string;
}

const bad = (m: string) => new EmblemError('RESPONSE_MALFORMED', m);

/** Shape checks only; the token itself is verified by whoever imports it (org import-endorsement). */
export function parseResponse(text: string): EndorsementResponse {
  if (text.length > AuthorityLimits.maxResponseBytes) throw new EmblemError('LIMIT_EXCEEDED', `the response is ${text.length} bytes (limit ${AuthorityLimits.maxResponseBytes})`);
  let d: Record<string, unknown>;
  try {
    d = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw bad('the response is not JSON');
  }
  if (typeof d !== 'object' || d === null || Array.isArray(d)) throw bad('the response must be a JSON object');
  if (d.version !== 1 || d.type !== RESPONSE_TYPE) throw bad(`not an endorsement response (version 1, type ${RESPONSE_TYPE})`);
  for (const k of ['id', 'authority', 'organization', 'kid', 'coseKid', 'issued', 'expires']) if (typeof d[k] !== 'string') throw bad(`${k} must be a string`);
  for (const k of ['authority', 'organization']) {
    try {
      parseOrganizationIdentifier(d[k]);
    } catch (err) {
      throw bad(`${k}: ${(err as Error).message}`);
    }
  }
  if (!/^[0-9a-z-]{8,64}$/.test(d.id as string)) throw bad('id must be 8-64 characters [0-9a-z-]');
  try {
    parsePublicJwk(d.authorityKey);
  } catch (err) {
    throw bad(`authorityKey: ${(err as Error).message}`);
  }
  const e = d.endorsements as Record<string, unknown> | undefined;
  if (typeof e !== 'object' || e === null || typeof e.jws !== 'string') throw bad('endorsements.jws must be a compact JWS');
  if (e.cwt !== undefined && (typeof e.cwt !== 'string' || !/^(?:[0-9a-f]{2})+$/.test(e.cwt))) throw bad('endorsements.cwt must be the CWT in lower-case hex');
  parseConstraints(d.constraints, 'constraints');
  if (Number.isNaN(Date.parse(d.issued as string)) || Number.isNaN(Date.parse(d.expires as string))) throw bad('issued/expires must be ISO-8601 times');
  return d as unknown as EndorsementResponse;
}
