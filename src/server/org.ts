import type { FastifyInstance } from 'fastify';
import { applyWorkflow, lintWorkflow, planJson, planWorkflow, statusWorkflow, withdrawWorkflow } from '../org/commands.js';
import { openRuntime } from '../org/runtime.js';
import type { RouteKit } from './app.js';
import { ApiError } from './errors.js';
import { timeParam } from './verify.js';

/** `--org DIR`: the organisation folder the API runs (as `emblem org … --dir DIR`). */
export interface OrgArea {
  dir: string;
  passphrase?: string;
}

const atQuery = { type: 'object', properties: { at: { type: 'string', maxLength: 64 }, offline: { type: 'boolean' } } } as const;

/** One change at a time: apply and withdraw both rewrite state.json and the channels. */
class Serial {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

/** /api/org/*: status, plan, lint (public); apply, withdraw (token, audited). */
export async function registerOrgRoutes(app: FastifyInstance, kit: RouteKit, area: OrgArea): Promise<void> {
  const serial = new Serial();
  const secondsOf = (at: string | undefined) => Math.floor(timeParam(at, kit.now).getTime() / 1000);
  async function withRuntime<T>(now: number, fn: (rt: Awaited<ReturnType<typeof openRuntime>>) => Promise<T>): Promise<T> {
    const rt = await openRuntime(area.dir, { now, ...(area.passphrase ? { passphrase: area.passphrase } : {}) });
    try {
      return await fn(rt);
    } finally {
      rt.close();
    }
  }
  const read = { tags: ['org'], querystring: atQuery, response: { ...kit.errorResponses } };

  app.get<{ Querystring: { at?: string; offline?: boolean } }>(
    '/api/org/status',
    { schema: { ...read, summary: 'per asset: status, level seen on the authoritative servers, validity, next renewal (emblem org status --json)' } },
    async (request) => withRuntime(secondsOf(request.query.at), (rt) => statusWorkflow(rt, request.query.offline === true)),
  );
  app.get<{ Querystring: { at?: string } }>(
    '/api/org/plan',
    { schema: { ...read, summary: 'what apply would do, and lint findings (emblem org plan --json)' } },
    async (request) => withRuntime(secondsOf(request.query.at), async (rt) => planJson(await planWorkflow(rt))),
  );
  app.get<{ Querystring: { at?: string } }>(
    '/api/org/lint',
    { schema: { ...read, summary: 'configuration findings (emblem org lint --json)' } },
    async (request) => lintWorkflow(area.dir, secondsOf(request.query.at)),
  );
  app.post(
    '/api/org/apply',
    {
      config: { write: true },
      onRequest: kit.requireToken,
      schema: { tags: ['org'], summary: 'sign what is due, publish, verify (emblem org apply --json); the server clock is used', security: [{ bearer: [] }], response: { ...kit.errorResponses } },
    },
    async () => serial.run(() => withRuntime(secondsOf(undefined), (rt) => applyWorkflow(rt))),
  );
  app.post<{ Body: { assets: string[] | 'all'; confirm: boolean } }>(
    '/api/org/withdraw',
    {
      config: { write: true },
      onRequest: kit.requireToken,
      schema: {
        tags: ['org'],
        summary: 'remove the emblem records of assets everywhere now and stop renewing them (emblem org withdraw --json)',
        security: [{ bearer: [] }],
        body: {
          type: 'object',
          required: ['assets', 'confirm'],
          properties: {
            assets: { anyOf: [{ type: 'array', minItems: 1, maxItems: 10_000, items: { type: 'string', maxLength: 300 } }, { type: 'string', enum: ['all'] }] },
            confirm: { type: 'boolean' },
          },
        },
        response: { ...kit.errorResponses },
      },
    },
    async (request) => {
      if (request.body.confirm !== true) throw new ApiError(400, 'USAGE', 'withdraw removes the emblem records now: send "confirm": true');
      const assets = request.body.assets === 'all' ? null : request.body.assets;
      return serial.run(() => withRuntime(secondsOf(undefined), (rt) => withdrawWorkflow(rt, assets)));
    },
  );
}
