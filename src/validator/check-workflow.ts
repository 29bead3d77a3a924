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
    (material) => verifyMaterial(material, { now, trustedKeys, commitments, policy: { unauthenticatedChain: policy } }),
  );
}
