import type { FastifyInstance } from 'fastify';
import { skipCommitmentCheck } from '../../src/core/verify/commitment.js';
import { buildApp, type AppOptions } from '../../src/server/app.js';
import type { AuditEvent } from '../../src/server/context.js';
import { DEFAULT_IHLE_TYPE } from '../../src/dns/rr-type.js';

/** The fixed clock of API tests (tests never read the wall clock). */
export const API_NOW = new Date('2026-06-17T00:10:00Z');

/** Routes each test file has exercised ("GET /api/check"); the OpenAPI coverage test reads them. */
export const TESTED = new Set<string>();
export const tested = (route: string): void => void TESTED.add(route);

/** An in-process app with commitment checks skipped (CT is another test's concern) and rate limits off. */
export async function testApp(overrides: Partial<AppOptions> = {}): Promise<{ app: FastifyInstance; audit: AuditEvent[] }> {
  const audit: AuditEvent[] = [];
  const app = await buildApp({
    verify: { trustedKeys: [], policy: 'spec', commitments: async () => skipCommitmentCheck, ctBundle: async () => null },
    check: { requestResolver: true, era: 'any', ihleType: DEFAULT_IHLE_TYPE, timeoutMs: 1000, attempts: 1 },
    tokens: null,
    webRoot: null,
    audit: (e) => audit.push(e),
    now: () => API_NOW,
    ratePerSecond: 0,
    ...overrides,
  });
  return { app, audit };
}
