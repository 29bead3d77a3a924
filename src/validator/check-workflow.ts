import { hexEncode } from '../core/encoding.js';
import { EmblemError } from '../core/errors.js';
import type { Material } from '../core/material/material.js';
import type { CommitmentChecker } from '../core/verify/commitment.js';
import { verifyMaterial } from '../core/verify/index.js';
import { normalizeUserName } from '../dns/domain-name.js';
import { checkName, type CheckReport } from '../dns/name-check.js';
import { parseResolverSpec } from '../dns/resolver.js';

/** One `emblem check` (or `GET /api/check`): what to look up, through whom, and how to verify what is found. */
export interface CheckRequest {
  /** The name as the user typed it. */
  name: string;
  /** "ip[:port]" or "system" (undefined = system); exclusive with doh. */
  resolver?: string;
  /** A DoH URL (RFC 8484). */
  doh?: string;
  era: 'jws' | 'cwt' | 'any';
  ihleType: number;
  ihleQueryType?: number;
  timeoutMs: number;
  attempts: number;
  now: Date;
  trustedKeys: Material[];
  commitments: CommitmentChecker;
  policy: 'spec' | 'prototype';
  /** Add each set's token texts (`sets[].tokens`), so a reader can draw the chain or re-verify offline. */
  withTokens?: boolean;
}

/** A set's material as the lines `emblem verify` reads: JWS compact text, JWK JSON, CWT and COSE_Key as hex. */
export function materialTexts(material: readonly Material[]): string[] {
  return material.map((m) => {
    switch (m.kind) {
      case 'jws':
        return m.text;
      case 'jwk':
        return JSON.stringify(m.jwk);
      case 'cwt':
      case 'cose-key':
        return hexEncode(m.bytes);
      case 'spki-pem':
        return m.pem;
    }
  });
}

/** The workflow behind `emblem check` and `GET /api/check`. Bad names and resolvers are USAGE errors. */
export async function runCheck(request: CheckRequest): Promise<CheckReport> {
  if (request.resolver !== undefined && request.doh !== undefined) throw new EmblemError('USAGE', 'give either --resolver or --doh, not both');
  let name;
  try {
    name = normalizeUserName(request.name);
  } catch (err) {
    throw new EmblemError('USAGE', (err as Error).message);
  }
  const resolver = parseResolverSpec(request.resolver, request.doh);
  const { now, trustedKeys, commitments, policy } = request;
  return checkName(
    name,
    { resolver, era: request.era, ihleType: request.ihleType, ihleQueryType: request.ihleQueryType, timeoutMs: request.timeoutMs, attempts: request.attempts },
    async (material) => {
      const report = await verifyMaterial(material, { now, trustedKeys, commitments, policy: { unauthenticatedChain: policy } });
      // The classification spreads the report into the checked set, so the texts travel with their own set.
      return request.withTokens ? { ...report, tokens: materialTexts(material) } : report;
    },
  );
}
