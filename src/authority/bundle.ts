import { EmblemError } from '../core/errors.js';
import { parseResponse, type EndorsementResponse } from './response.js';

export const BUNDLE_TYPE = 'adem-endorsement-bundle';

/**
 * The responses of one bulk renewal in one file, to send on (or to split per organisation): each member is an
 * unchanged response file, as `emblem org import-endorsement` reads it.
 */
export interface EndorsementBundle {
  version: 1;
  type: typeof BUNDLE_TYPE;
  authority: string;
  created: string;
  responses: EndorsementResponse[];
}

export function buildBundle(authority: string, now: number, responses: EndorsementResponse[]): EndorsementBundle {
  return { version: 1, type: BUNDLE_TYPE, authority, created: new Date(now * 1000).toISOString(), responses };
}

export function parseBundle(text: string): EndorsementBundle {
  let b: EndorsementBundle;
  try {
    b = JSON.parse(text) as EndorsementBundle;
  } catch {
    throw new EmblemError('BUNDLE_MALFORMED', 'the bundle is not JSON');
  }
  if (b?.version !== 1 || b.type !== BUNDLE_TYPE || !Array.isArray(b.responses)) throw new EmblemError('BUNDLE_MALFORMED', `not an ${BUNDLE_TYPE} version 1`);
  return { ...b, responses: b.responses.map((r) => parseResponse(JSON.stringify(r))) };
}
