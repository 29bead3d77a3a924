import { createServer } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import type { AuditEvent, CheckSettings, VerifySettings } from './context.js';
import { ApiError, ApiErrorCodes, errorSchema, sendError } from './errors.js';
import { ServerLimits } from './limits.js';
import { TokenBuckets } from './rate-limit.js';
import type { ApiTokenVerifier } from './tokens.js';
import { registerVerifyRoutes } from './verify.js';
import { registerCheckRoutes } from './check.js';
import { registerStaticRoutes } from './static.js';
import { registerScanRoutes, ScanJobs } from './scans.js';
import { registerOrgRoutes, type OrgArea } from './org.js';
import { registerAuthorityRoutes, type AuthorityArea } from './authority.js';
import { registerObservatoryRoutes, type ObservatoryArea } from './observatory.js';

export interface AppOptions {
  verify: VerifySettings;
  check: CheckSettings;
  /** Checks `Authorization: Bearer` tokens of write requests; null: no tokens file, every write is refused. */
  tokens: ApiTokenVerifier | null;
  /** Where the dashboard's files are (dist/web); null or missing: a short page says it is not built. */
  webRoot: string | null;
  /** Each write action (and each refused one) as one JSON line. */
  audit: (event: AuditEvent) => void;
  now?: () => Date;
  org?: OrgArea;
  authority?: AuthorityArea;
  observatory?: ObservatoryArea;
  /** Requests per second per client on /api (0 = off). */
  ratePerSecond?: number;
  bodyLimit?: number;
  /** Slow-client bounds (tests shorten them); defaults in ServerLimits. */
  timeouts?: { headersMs?: number; connectionMs?: number };
  /** Fastify's logger (false in tests). */
  logger?: boolean;
}

/** The same strict policy for the dashboard and the API: only our own files; no inline script or style. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), interest-cohort=()',
};

declare module 'fastify' {
  interface FastifyRequest {
    /** The API token's name once requireToken has accepted it. */
    tokenName?: string;
  }
  interface FastifyContextConfig {
    /** A write action: needs a token and is audited. */
    write?: boolean;
  }
}

/** Route helpers shared by the area files. */
export interface RouteKit {
  now(): Date;
  /** onRequest hook for write routes: 401 without a valid bearer token. */
  requireToken(request: FastifyRequest, reply: FastifyReply): Promise<void>;
  errorResponses: Record<string, unknown>;
}

/** Builds the API server (not yet listening): one fastify instance, routes per area in their own files. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const now = options.now ?? (() => new Date());
  const headersMs = options.timeouts?.headersMs ?? ServerLimits.headersTimeoutMs;
  const connectionMs = options.timeouts?.connectionMs ?? ServerLimits.connectionTimeoutMs;
  const app = Fastify({
    // Node enforces headersTimeout/requestTimeout only every connectionsCheckingInterval (default 30 s).
    serverFactory: (handler) =>
      createServer({ headersTimeout: headersMs, requestTimeout: ServerLimits.requestTimeoutMs, connectionsCheckingInterval: Math.min(1000, headersMs) }, handler),
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimit ?? ServerLimits.bodyLimitBytes,
    routerOptions: { maxParamLength: 300 },
    connectionTimeout: connectionMs,
    keepAliveTimeout: ServerLimits.keepAliveTimeoutMs,
    requestTimeout: ServerLimits.requestTimeoutMs,
    return503OnClosing: true,
    trustProxy: false,
    ajv: { customOptions: { coerceTypes: true, removeAdditional: true, allErrors: false } },
  });
  app.server.maxConnections = ServerLimits.maxConnections;

  const buckets = new TokenBuckets(options.ratePerSecond ?? ServerLimits.defaultRatePerSecond, ServerLimits.rateBurst);

  app.addHook('onRequest', async (request, reply) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) reply.header(k, v);
    if (request.url.length > ServerLimits.maxUrlBytes) throw new ApiError(414, 'LIMIT_EXCEEDED', `URL longer than ${ServerLimits.maxUrlBytes} bytes`);
    if (request.url.startsWith('/api/')) {
      reply.header('cache-control', 'no-store');
      if (!buckets.take(request.ip)) {
        reply.header('retry-after', '1');
        throw new ApiError(429, ApiErrorCodes.RATE_LIMITED, 'too many requests from this address; slow down');
      }
    }
  });

  // Audit every write action once the answer is known (success, refusal or failure).
  app.addHook('onResponse', async (request, reply) => {
    if (!request.routeOptions.config?.write) return;
    const status = reply.statusCode;
    options.audit({
      time: now().toISOString(),
      token: request.tokenName ?? null,
      method: request.method,
      route: request.routeOptions.url ?? request.url,
      status,
      outcome: status === 401 || status === 403 ? 'denied' : status < 400 ? 'ok' : 'failed',
    });
  });

  app.setErrorHandler((err, request, reply) => sendError(reply, err, request));
  app.setNotFoundHandler((request, reply) => sendError(reply, new ApiError(404, ApiErrorCodes.NOT_FOUND, `no such resource: ${request.method} ${request.url.split('?')[0]}`), request));

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Emblem API', version: '1', description: 'The HTTP API of `emblem serve` (docs/server.md).' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });

  const kit: RouteKit = {
    now,
    requireToken: async (request) => {
      const header = request.headers.authorization;
      if (!header) throw new ApiError(401, ApiErrorCodes.AUTH_REQUIRED, 'this action needs an API token (Authorization: Bearer <token>; see emblem serve token create)');
      const m = /^Bearer ([A-Za-z0-9_-]{1,128})$/.exec(header);
      const name = m && options.tokens ? await options.tokens.verify(m[1]!) : null;
      if (!name) throw new ApiError(401, ApiErrorCodes.AUTH_INVALID, 'the API token is not valid');
      request.tokenName = name;
    },
    errorResponses: {
      400: { description: 'bad request', ...errorSchema },
      429: { description: 'rate limited', ...errorSchema },
    },
  };

  app.get('/api/health', { schema: { summary: 'liveness', tags: ['meta'] } }, async () => ({ ok: true }));
  app.get('/api/features', { schema: { summary: 'which areas are enabled', tags: ['meta'] } }, async () => ({
    org: Boolean(options.org),
    authority: Boolean(options.authority),
    observatory: Boolean(options.observatory),
  }));
  app.get('/api/openapi.json', { schema: { summary: 'this OpenAPI document', tags: ['meta'] } }, async () => app.swagger());

  await app.register(async (scope) => registerVerifyRoutes(scope, kit, options.verify));
  await app.register(async (scope) => registerCheckRoutes(scope, kit, options.verify, options.check));
  const jobs = new ScanJobs();
  app.addHook('onClose', async () => jobs.close());
  await app.register(async (scope) => registerScanRoutes(scope, kit, jobs, options.verify, options.check));
  if (options.org) {
    const org = options.org;
    await app.register(async (scope) => registerOrgRoutes(scope, kit, org));
  }
  if (options.authority) {
    const authority = options.authority;
    await app.register(async (scope) => registerAuthorityRoutes(scope, kit, authority));
  }
  if (options.observatory) {
    const observatory = options.observatory;
    await app.register(async (scope) => registerObservatoryRoutes(scope, kit, observatory));
  }
  await app.register(async (scope) => registerStaticRoutes(scope, options.webRoot));
  return app;
}
