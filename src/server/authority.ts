import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { openAuthority } from '../authority/runtime.js';
import { grantWorkflow, listWorkflow, reviewWorkflow } from '../authority/workflows.js';
import type { RouteKit } from './app.js';
import { ServerLimits } from './limits.js';
import { timeParam } from './verify.js';

/** `--authority DIR`: the authority folder the API runs (as `emblem authority … --dir DIR`). */
export interface AuthorityArea {
  dir: string;
  passphrase?: string;
}

interface ReviewBody {
  request: unknown;
  skipCommitmentCheck?: boolean;
  resolver?: string;
}

interface GrantBody extends ReviewBody {
  lifetimeSeconds?: number;
  acceptWarnings?: boolean;
  constrainAssets?: string[];
  constrainPurposes?: string[];
  maxLifetimeSeconds?: number;
  cwtWithoutAssetConstraints?: boolean;
}

/** The request as text: a JSON object is re-serialised, a string is taken as the file's text. */
const requestText = (request: unknown): string => (typeof request === 'string' ? request : JSON.stringify(request));

const requestBody = {
  type: 'object',
  required: ['request'],
  properties: {
    request: { description: 'the endorsement request (emblem org request-endorsement): its JSON object or its text' },
    skipCommitmentCheck: { type: 'boolean' },
    resolver: { type: 'string', maxLength: 300 },
  },
} as const;

/** /api/authority/*: registry and expiring (public), review (public: no signature, recorded), grant (token). */
export async function registerAuthorityRoutes(app: FastifyInstance, kit: RouteKit, area: AuthorityArea): Promise<void> {
  const secondsOf = (at: string | undefined) => Math.floor(timeParam(at, kit.now).getTime() / 1000);
  const open = (now: number) => openAuthority(area.dir, { now, ...(area.passphrase ? { passphrase: area.passphrase } : {}) });

  app.get<{ Querystring: { at?: string } }>(
    '/api/authority/registry',
    { schema: { tags: ['authority'], summary: 'every endorsement in the registry (emblem authority list --json)', querystring: { type: 'object', properties: { at: { type: 'string', maxLength: 64 } } }, response: { ...kit.errorResponses } } },
    async (request) => listWorkflow(area.dir, secondsOf(request.query.at)),
  );
  app.get<{ Querystring: { at?: string; days?: number } }>(
    '/api/authority/expiring',
    {
      schema: {
        tags: ['authority'],
        summary: 'active endorsements expiring within `days` (default 30; emblem authority list --expiring Nd --json)',
        querystring: { type: 'object', properties: { at: { type: 'string', maxLength: 64 }, days: { type: 'integer', minimum: 0, maximum: ServerLimits.maxExpiringDays } } },
        response: { ...kit.errorResponses },
      },
    },
    async (request) => listWorkflow(area.dir, secondsOf(request.query.at), (request.query.days ?? 30) * 86_400),
  );
  app.post<{ Body: ReviewBody }>(
    '/api/authority/review',
    { schema: { tags: ['authority'], summary: 'review a request: verdict and findings (emblem authority review --json); signs nothing', body: requestBody, response: { ...kit.errorResponses } } },
    async (request) => {
      const rt = await open(secondsOf(undefined));
      try {
        return await reviewWorkflow(rt, area.dir, { requestText: requestText(request.body.request), skipCommitmentCheck: request.body.skipCommitmentCheck, resolver: request.body.resolver });
      } finally {
        rt.close();
      }
    },
  );
  app.post<{ Body: GrantBody }>(
    '/api/authority/grant',
    {
      config: { write: true },
      onRequest: kit.requireToken,
      schema: {
        tags: ['authority'],
        summary: 'review again and sign the endorsement (emblem authority grant --json); the response file is written under responses/ and returned',
        security: [{ bearer: [] }],
        body: {
          ...requestBody,
          properties: {
            ...requestBody.properties,
            lifetimeSeconds: { type: 'integer', minimum: 1 },
            acceptWarnings: { type: 'boolean' },
            constrainAssets: { type: 'array', items: { type: 'string', maxLength: 300 }, maxItems: 256 },
            constrainPurposes: { type: 'array', items: { type: 'string', maxLength: 64 }, maxItems: 16 },
            maxLifetimeSeconds: { type: 'integer', minimum: 1 },
            cwtWithoutAssetConstraints: { type: 'boolean' },
          },
        },
        response: { ...kit.errorResponses },
      },
    },
    async (request) => {
      const b = request.body;
      const now = secondsOf(undefined);
      const dir = join(area.dir, 'responses');
      await mkdir(dir, { recursive: true });
      const out = join(dir, `response-${now}-${randomBytes(6).toString('hex')}.json`);
      const rt = await open(now);
      try {
        const { json } = await grantWorkflow(rt, area.dir, {
          requestText: requestText(b.request),
          out,
          lifetime: b.lifetimeSeconds,
          acceptWarnings: b.acceptWarnings,
          skipCommitmentCheck: b.skipCommitmentCheck,
          narrowing: { ...(b.constrainAssets ? { assets: b.constrainAssets } : {}), ...(b.constrainPurposes ? { purposes: b.constrainPurposes } : {}), ...(b.maxLifetimeSeconds !== undefined ? { maxLifetime: b.maxLifetimeSeconds } : {}) },
          cwtWithoutAssetConstraints: b.cwtWithoutAssetConstraints,
        });
        const { readFile } = await import('node:fs/promises');
        return { ...json, response: JSON.parse(await readFile(out, 'utf8')) as unknown };
      } finally {
        rt.close();
      }
    },
  );
}
