import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { publicKeyMaterial } from '../cli/inputs.js';
import type { CheckReport } from '../dns/name-check.js';
import { parseResolverSpec } from '../dns/resolver.js';
import { formatResult, CSV_HEADER } from '../validator/result-format.js';
import { runScan } from '../validator/scan-pipeline.js';
import type { RouteKit } from './app.js';
import { requestResolver } from './check.js';
import type { CheckSettings, VerifySettings } from './context.js';
import { ApiError, ApiErrorCodes, notFound } from './errors.js';
import { ServerLimits } from './limits.js';
import { timeParam } from './verify.js';

export type ScanState = 'queued' | 'running' | 'done' | 'cancelled' | 'failed';

interface ScanJob {
  id: string;
  state: ScanState;
  total: number;
  /** JSON lines (the `emblem check --json` object with "index"), in input order. */
  lines: string[];
  counts: Record<string, number>;
  created: number;
  error?: { code: string; message: string };
  abort: AbortController;
  start: () => Promise<void>;
}

export interface ScanStatus {
  id: string;
  state: ScanState;
  total: number;
  done: number;
  counts: Record<string, number>;
  error?: { code: string; message: string };
}

/**
 * The server's scan jobs: bounded in number (finished jobs are evicted oldest first when room is needed), in names
 * per job, and in jobs running at once. Each job is one `emblem scan` run (runScan) over its names, results kept in
 * memory in input order.
 */
export class ScanJobs {
  private readonly jobs = new Map<string, ScanJob>();
  private running = 0;
  private readonly waiting: ScanJob[] = [];

  add(names: string[], run: (job: { signal: AbortSignal; sink: Writable }) => Promise<void>): ScanStatus {
    if (this.jobs.size >= ServerLimits.maxScanJobs) {
      const finished = [...this.jobs.values()].filter((j) => j.state !== 'queued' && j.state !== 'running').sort((a, b) => a.created - b.created)[0];
      if (!finished) throw new ApiError(429, ApiErrorCodes.RATE_LIMITED, `${ServerLimits.maxScanJobs} scan jobs are queued or running; wait for one to finish or cancel one`);
      this.jobs.delete(finished.id);
    }
    const id = randomBytes(9).toString('base64url');
    const abort = new AbortController();
    const job: ScanJob = {
      id,
      state: 'queued',
      total: names.length,
      lines: [],
      counts: {},
      created: performance.now(),
      abort,
      start: async () => {
        if (job.state !== 'queued') return;
        job.state = 'running';
        let pending = '';
        const sink = new Writable({
          write(chunk: Buffer | string, _enc, done) {
            pending += chunk.toString();
            let nl;
            while ((nl = pending.indexOf('\n')) >= 0) {
              const line = pending.slice(0, nl);
              pending = pending.slice(nl + 1);
              if (!line) continue;
              job.lines.push(line);
              const status = (JSON.parse(line) as { status: string }).status;
              job.counts[status] = (job.counts[status] ?? 0) + 1;
            }
            done();
          },
        });
        try {
          await run({ signal: abort.signal, sink });
          if (job.state === 'running') job.state = abort.signal.aborted ? 'cancelled' : 'done';
        } catch (err) {
          job.state = 'failed';
          job.error = { code: String((err as { code?: string }).code ?? 'INTERNAL'), message: err instanceof ApiError || (err as { code?: string }).code ? (err as Error).message : 'internal error' };
        }
      },
    };
    this.jobs.set(id, job);
    this.waiting.push(job);
    this.pump();
    return this.status(id)!;
  }

  private pump(): void {
    while (this.running < ServerLimits.maxRunningScanJobs && this.waiting.length) {
      const job = this.waiting.shift()!;
      if (job.state !== 'queued') continue;
      this.running++;
      void job.start().finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  status(id: string): ScanStatus | null {
    const j = this.jobs.get(id);
    if (!j) return null;
    return { id: j.id, state: j.state, total: j.total, done: j.lines.length, counts: { ...j.counts }, ...(j.error ? { error: j.error } : {}) };
  }

  lines(id: string): string[] | null {
    return this.jobs.get(id)?.lines ?? null;
  }

  cancel(id: string): ScanStatus | null {
    const j = this.jobs.get(id);
    if (!j) return null;
    if (j.state === 'queued') j.state = 'cancelled';
    if (j.state === 'running') j.abort.abort();
    return this.status(id);
  }

  close(): void {
    for (const j of this.jobs.values()) {
      if (j.state === 'queued') j.state = 'cancelled';
      j.abort.abort();
    }
  }
}

interface ScanBody {
  names: string[] | string;
  resolver?: string;
  at?: string;
  skipCommitmentCheck?: boolean;
}

/** The names of a submission: a JSON array, or text lines (blank lines and # comments skipped). */
export function scanNames(names: string[] | string): string[] {
  const list = typeof names === 'string' ? names.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#')) : names;
  if (list.length === 0) throw new ApiError(400, 'USAGE', 'no names to scan');
  if (list.length > ServerLimits.maxNamesPerScan) throw new ApiError(413, 'LIMIT_EXCEEDED', `at most ${ServerLimits.maxNamesPerScan} names per scan job`);
  return list;
}

const idParam = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 32 } } } as const;

/** Scan jobs: POST /api/scans, GET /api/scans/:id, GET /api/scans/:id/results, DELETE /api/scans/:id. */
export async function registerScanRoutes(app: FastifyInstance, kit: RouteKit, jobs: ScanJobs, verify: VerifySettings, check: CheckSettings): Promise<void> {
  const trusted = verify.trustedKeys.map((k) => publicKeyMaterial(k, 'trust store'));
  // A text body is a list of names, one per line.
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_req, body, done) => done(null, { names: body }));
  app.post<{ Body: ScanBody }>(
    '/api/scans',
    {
      schema: {
        summary: 'start a scan job (emblem scan) over a list of names; a text/plain body is one name per line',
        tags: ['scans'],
        body: {
          type: 'object',
          required: ['names'],
          properties: {
            names: { anyOf: [{ type: 'array', items: { type: 'string', maxLength: 300 }, maxItems: ServerLimits.maxNamesPerScan }, { type: 'string' }] },
            resolver: { type: 'string', maxLength: 300 },
            at: { type: 'string', maxLength: 64 },
            skipCommitmentCheck: { type: 'boolean' },
          },
        },
        response: { ...kit.errorResponses },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const names = scanNames(body.names);
      const now = timeParam(body.at, kit.now);
      const skip = body.skipCommitmentCheck === true;
      const where = requestResolver(check, body.resolver);
      const resolver = parseResolverSpec(where.resolver, where.doh);
      const commitments = await verify.commitments(skip);
      const status = jobs.add(names, async ({ signal, sink }) => {
        await runScan({
          input: Readable.from([`${names.join('\n')}\n`]),
          format: 'names',
          output: { stream: sink },
          outputFormat: 'jsonl',
          resume: false,
          ihleType: check.ihleType,
          signal,
          discovery: { resolver, era: check.era, ihleType: check.ihleType, timeoutMs: check.timeoutMs, attempts: check.attempts },
          qps: null,
          concurrency: ServerLimits.scanConcurrency,
          workers: 0,
          now,
          trustedKeys: trusted,
          policy: { unauthenticatedChain: verify.policy },
          commitments,
        });
      });
      return reply.code(202).send({ id: status.id });
    },
  );
  app.get<{ Params: { id: string } }>(
    '/api/scans/:id',
    { schema: { summary: 'a scan job\'s progress', tags: ['scans'], params: idParam, response: { ...kit.errorResponses } } },
    async (request) => jobs.status(request.params.id) ?? Promise.reject(notFound(`no scan job ${request.params.id}`)),
  );
  app.get<{ Params: { id: string }; Querystring: { format?: 'jsonl' | 'csv' } }>(
    '/api/scans/:id/results',
    {
      schema: {
        summary: 'results so far, in input order: JSON lines (the emblem check --json object with "index") or CSV',
        tags: ['scans'],
        params: idParam,
        querystring: { type: 'object', properties: { format: { type: 'string', enum: ['jsonl', 'csv'] } } },
        response: { ...kit.errorResponses },
      },
    },
    async (request, reply) => {
      const lines = jobs.lines(request.params.id);
      if (!lines) throw notFound(`no scan job ${request.params.id}`);
      const snapshot = lines.slice();
      if (request.query.format === 'csv') {
        const csv = snapshot.map((l) => {
          const { index, ...report } = JSON.parse(l) as CheckReport & { index: number };
          return formatResult({ index, report: report as CheckReport }, 'csv');
        });
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="scan-${request.params.id}.csv"`)
          .send(`${CSV_HEADER}\n${csv.join('')}`);
      }
      return reply
        .type('application/x-ndjson; charset=utf-8')
        .header('content-disposition', `attachment; filename="scan-${request.params.id}.jsonl"`)
        .send(snapshot.length ? `${snapshot.join('\n')}\n` : '');
    },
  );
  app.delete<{ Params: { id: string } }>(
    '/api/scans/:id',
    {
      schema: { summary: 'cancel a scan job (results so far are kept); the job id (72 random bits) is the capability', tags: ['scans'], params: idParam, response: { ...kit.errorResponses } },
    },
    async (request) => jobs.cancel(request.params.id) ?? Promise.reject(notFound(`no scan job ${request.params.id}`)),
  );
}
