import type { FastifyInstance } from 'fastify';
import type { ObservatoryStore } from '../observatory/store.js';
import type { RouteKit } from './app.js';
import { ApiError, ApiErrorCodes } from './errors.js';
import { ServerLimits } from './limits.js';
import { timeParam } from './verify.js';

/**
 * Exports the evidence bundle of a target at a time (openAreas binds src/evidence's exportEvidenceBundle to the store).
 * A string is sent as it is (the bundle's canonical JSON text), anything else serialised as JSON.
 */
export type EvidenceExporter = (options: { evidenceDir: string; target: string; at: string }) => Promise<unknown>;

/** `--observe-config FILE`: the observatory's store, its targets and evidence. */
export interface ObservatoryArea {
  store: ObservatoryStore;
  /** The configured targets (names). */
  targets: () => Promise<string[]>;
  evidenceDir?: string;
  exportEvidence?: EvidenceExporter;
}

const NAME = { type: 'string', minLength: 1, maxLength: 300 } as const;

/** /api/observatory/*: read-only views of the observe service's database and evidence log. */
export async function registerObservatoryRoutes(app: FastifyInstance, kit: RouteKit, area: ObservatoryArea): Promise<void> {
  app.get(
    '/api/observatory/targets',
    { schema: { tags: ['observatory'], summary: 'the observed targets with their state and open incidents', response: { ...kit.errorResponses } } },
    async () => {
      const targets = await area.targets();
      const states = await area.store.getTargetStates(targets);
      const open = await area.store.incidents({ open: true });
      return {
        targets: targets.map((target) => {
          const s = states.get(target);
          let state: unknown = null;
          try {
            state = s ? JSON.parse(s.state) : null;
          } catch {
            state = s?.state ?? null;
          }
          return { target, state, updated: s?.updated ?? null, openIncidents: open.filter((i) => i.target === target).length };
        }),
      };
    },
  );
  app.get<{ Querystring: { open?: boolean; target?: string } }>(
    '/api/observatory/incidents',
    {
      schema: {
        tags: ['observatory'],
        summary: 'incidents, oldest first (open=true: only open ones)',
        querystring: { type: 'object', properties: { open: { type: 'boolean' }, target: NAME } },
        response: { ...kit.errorResponses },
      },
    },
    async (request) => ({
      incidents: await area.store.incidents({ ...(request.query.open !== undefined ? { open: request.query.open } : {}), ...(request.query.target ? { target: request.query.target } : {}) }),
    }),
  );
  app.get<{ Params: { name: string }; Querystring: { from?: string; to?: string } }>(
    '/api/observatory/targets/:name/observations',
    {
      schema: {
        tags: ['observatory'],
        summary: 'observation history of one target (per vantage point), oldest first',
        params: { type: 'object', required: ['name'], properties: { name: NAME } },
        querystring: { type: 'object', properties: { from: { type: 'string', maxLength: 64 }, to: { type: 'string', maxLength: 64 } } },
        response: { ...kit.errorResponses },
      },
    },
    async (request) => {
      const to = timeParam(request.query.to, kit.now).toISOString();
      const from = request.query.from ? timeParam(request.query.from, kit.now).toISOString() : new Date(Date.parse(to) - 30 * 86_400_000).toISOString();
      if (from > to) throw new ApiError(400, 'USAGE', 'from is after to');
      const observations = await area.store.observations(request.params.name, from, to, ServerLimits.maxObservationsPerRequest);
      return { target: request.params.name, from, to, observations };
    },
  );
  app.get<{ Querystring: { target: string; at?: string } }>(
    '/api/observatory/evidence',
    {
      schema: {
        tags: ['observatory'],
        summary: 'evidence bundle for a target at a time (observations with inclusion proofs in the signed evidence log)',
        querystring: { type: 'object', required: ['target'], properties: { target: NAME, at: { type: 'string', maxLength: 64 } } },
        response: { ...kit.errorResponses },
      },
    },
    async (request, reply) => {
      if (!area.exportEvidence || !area.evidenceDir) throw new ApiError(404, ApiErrorCodes.FEATURE_DISABLED, 'this observatory keeps no evidence log (evidenceDir is not configured)');
      const at = timeParam(request.query.at, kit.now).toISOString();
      const bundle = await area.exportEvidence({ evidenceDir: area.evidenceDir, target: request.query.target, at });
      if (typeof bundle === 'string') reply.type('application/json; charset=utf-8');
      return reply.header('content-disposition', `attachment; filename="evidence-${request.query.target.replace(/[^A-Za-z0-9.-]/g, '_')}.json"`).send(bundle);
    },
  );
}
