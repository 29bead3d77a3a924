import { reportError } from '../core/errors.js';
import type { FastifyInstance } from 'fastify';
import { publicKeyMaterial } from '../cli/inputs.js';
import { runCheck } from '../validator/check-workflow.js';
import type { RouteKit } from './app.js';
import type { CheckSettings, VerifySettings } from './context.js';
import { ApiError } from './errors.js';
import { ServerLimits } from './limits.js';
import { timeParam } from './verify.js';

export interface CheckQuery {
  name: string;
  resolver?: string;
  at?: string;
  skipCommitmentCheck?: boolean;
  tokens?: boolean;
}

/** Resolver of one request: its own (when allowed) or the server's default. */
export function requestResolver(settings: CheckSettings, resolver: string | undefined): { resolver?: string; doh?: string } {
  if (resolver === undefined || resolver === '') return { resolver: settings.resolver, doh: settings.doh };
  if (!settings.requestResolver) throw new ApiError(400, 'USAGE', 'this server does not take a resolver per request (it uses its own)');
  return /^https?:\/\//.test(resolver) ? { doh: resolver } : { resolver };
}

/** GET /api/check: `emblem check NAME --json` with the server's trust settings. */
export async function registerCheckRoutes(app: FastifyInstance, kit: RouteKit, verify: VerifySettings, settings: CheckSettings): Promise<void> {
  const trusted = verify.trustedKeys.map((k) => publicKeyMaterial(k, 'trust store'));
  // Answers for the same question within checkCacheMs (monotonic clock); bounded, oldest dropped first.
  const cache = new Map<string, { until: number; value: Promise<unknown> }>();
  app.get<{ Querystring: CheckQuery }>(
    '/api/check',
    {
      schema: {
        summary: 'look up a name in the DNS and verify its emblem; answers the `emblem check --json` object',
        tags: ['check'],
        querystring: {
          type: 'object',
          required: ['name'],
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 300 },
            resolver: { type: 'string', maxLength: 300, description: 'ip[:port], "system", or a DoH URL (default: the server\'s)' },
            at: { type: 'string', maxLength: 64 },
            skipCommitmentCheck: { type: 'boolean' },
            tokens: { type: 'boolean', description: 'add each set\'s token texts (sets[].tokens), as `emblem check --json --with-tokens`' },
          },
        },
        response: { ...kit.errorResponses },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const now = timeParam(q.at, kit.now);
      const skip = q.skipCommitmentCheck === true;
      const where = requestResolver(settings, q.resolver);
      // Without ?at= the time moves on, so only explicit times and whole seconds of "now" share an answer.
      const withTokens = q.tokens === true;
      const key = JSON.stringify([q.name, where.resolver ?? null, where.doh ?? null, q.at ? now.toISOString() : Math.floor(now.getTime() / 1000), skip, withTokens]);
      const hit = cache.get(key);
      const t = performance.now();
      if (hit && hit.until > t) {
        reply.header('x-emblem-cache', 'hit');
        return hit.value;
      }
      const value = answer(q.name, where, now, skip, withTokens);
      if (cache.size >= ServerLimits.maxCachedChecks) cache.delete(cache.keys().next().value!);
      cache.set(key, { until: t + ServerLimits.checkCacheMs, value });
      value.catch(() => cache.delete(key));
      return value;
    },
  );

  app.get(
    '/api/ct/logs',
    {
      schema: {
        summary: 'the CT logs of the server\'s log list (ID, kind, description), to name the log IDs tokens carry; empty when CT is not checked',
        tags: ['check'],
        response: { ...kit.errorResponses },
      },
    },
    async () => {
      try {
        return { logs: (await verify.ctLogs?.()) ?? [] };
      } catch (err) {
        // An unreachable log list is not an error of this request: the names are a convenience.
        return { logs: [], error: reportError(err) };
      }
    },
  );

  async function answer(name: string, where: { resolver?: string; doh?: string }, now: Date, skip: boolean, withTokens: boolean): Promise<unknown> {
    const report = await runCheck({
      name,
      ...where,
      era: settings.era,
      ihleType: settings.ihleType,
      timeoutMs: settings.timeoutMs,
      attempts: settings.attempts,
      now,
      trustedKeys: trusted,
      commitments: await verify.commitments(skip),
      policy: verify.policy,
      withTokens,
    });
    const bundle = await verify.ctBundle(now, skip);
    return bundle ? { ...report, ctBundle: bundle } : report;
  }
}
