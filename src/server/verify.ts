import type { FastifyInstance } from 'fastify';
import { parseTime } from '../cli/duration.js';
import { verifyTexts } from '../validator/verify-text.js';
import type { RouteKit } from './app.js';
import type { VerifySettings } from './context.js';
import { ApiError } from './errors.js';

/** `?at=` as `--at` takes it ("now" or ISO-8601); absent: the server's clock. */
export function timeParam(text: string | undefined, now: () => Date): Date {
  if (text === undefined || text === '') return now();
  if (text === 'now') return now();
  return parseTime(text, 'at');
}

export const verifyQuerySchema = {
  type: 'object',
  properties: {
    at: { type: 'string', maxLength: 64, description: 'verify as of this ISO-8601 time (default now)' },
    skipCommitmentCheck: { type: 'boolean', description: 'do not check root-key commitments in CT (reported as skipped)' },
  },
} as const;

/** POST /api/verify: the body is what `emblem verify` reads from a file or standard input. */
export async function registerVerifyRoutes(app: FastifyInstance, kit: RouteKit, settings: VerifySettings): Promise<void> {
  // Whatever the content type, the body is text (a JWK posted as application/json included).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));
  app.post<{ Querystring: { at?: string; skipCommitmentCheck?: boolean }; Body: string }>(
    '/api/verify',
    {
      schema: {
        summary: 'verify one token set (the input of `emblem verify`); answers the `emblem verify --json` report',
        tags: ['verify'],
        querystring: verifyQuerySchema,
        body: { type: 'string', description: 'one item per line: JWS, CWT hex, JWK JSON, adem-token=/adem-key= TXT record' },
        response: { ...kit.errorResponses },
      },
    },
    async (request) => {
      const body = request.body;
      if (typeof body !== 'string') throw new ApiError(400, 'USAGE', 'the body must be text: the tokens, keys or TXT records to verify');
      const now = timeParam(request.query.at, kit.now);
      const skip = request.query.skipCommitmentCheck === true;
      const commitments = await settings.commitments(skip);
      const report = await verifyTexts([{ text: body, source: 'request', where: 'the request body' }], {
        now,
        trustedKeys: settings.trustedKeys,
        commitments,
        policy: { unauthenticatedChain: settings.policy },
      });
      const bundle = await settings.ctBundle(now, skip);
      return bundle ? { ...report, ctBundle: bundle } : report;
    },
  );
}
