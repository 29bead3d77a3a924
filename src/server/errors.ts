import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { EmblemError } from '../core/errors.js';

/** The HTTP API's own error codes (beside the project's EmblemError codes, which pass through unchanged). */
export const ApiErrorCodes = {
  AUTH_REQUIRED: 'AUTH_REQUIRED',
  AUTH_INVALID: 'AUTH_INVALID',
  NOT_FOUND: 'NOT_FOUND',
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
  RATE_LIMITED: 'RATE_LIMITED',
  FEATURE_DISABLED: 'FEATURE_DISABLED',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  CONFLICT: 'CONFLICT',
  INTERNAL: 'INTERNAL',
} as const;

/** An error with the HTTP status it is answered with. */
export class ApiError extends EmblemError {
  constructor(readonly statusCode: number, code: string, message: string) {
    super(code, message);
    this.name = 'ApiError';
  }
}

export interface ErrorBody {
  error: { code: string; message: string };
}

/** HTTP status of a project error code: input problems are 400, everything unknown is 500. */
function statusOf(code: string): number {
  if (code === 'FILE_EXISTS') return 409;
  if (code === 'LIMIT_EXCEEDED') return 413;
  if (code.endsWith('_NOT_FOUND')) return 404;
  if (code === 'INTERNAL') return 500;
  return 400;
}

/**
 * Maps any thrown error to {error:{code,message}}: never a stack trace. Fastify's own errors (validation, body
 * limit, bad JSON, bad content type) keep their status with a project code; unknown errors are INTERNAL and their
 * message is replaced (it may name files or internals) and logged instead.
 */
export function toErrorReply(err: unknown, log?: (err: unknown) => void): { status: number; body: ErrorBody } {
  if (err instanceof ApiError) return { status: err.statusCode, body: { error: { code: err.code, message: err.message } } };
  const fe = err as Partial<FastifyError> & { validation?: unknown };
  if (fe && typeof fe === 'object' && fe.validation) {
    return { status: 400, body: { error: { code: 'USAGE', message: fe.message ?? 'invalid request' } } };
  }
  if (err instanceof EmblemError || (err instanceof Error && err.name === 'UsageError' && typeof (err as { code?: unknown }).code === 'string')) {
    const code = String((err as EmblemError).code);
    const status = statusOf(code);
    if (status === 500) log?.(err);
    return { status, body: { error: { code, message: status === 500 ? 'internal error' : err.message } } };
  }
  const status = typeof fe?.statusCode === 'number' ? fe.statusCode : 500;
  if (status === 413) return { status, body: { error: { code: 'LIMIT_EXCEEDED', message: 'request body too large' } } };
  if (status === 415) return { status, body: { error: { code: ApiErrorCodes.UNSUPPORTED_MEDIA_TYPE, message: 'unsupported content type' } } };
  if (status === 429) return { status, body: { error: { code: ApiErrorCodes.RATE_LIMITED, message: 'too many requests' } } };
  if (status >= 400 && status < 500) {
    // Fastify's client errors (malformed JSON, empty JSON body, bad URL): their messages name no internals.
    return { status, body: { error: { code: 'USAGE', message: fe.message ?? 'bad request' } } };
  }
  log?.(err);
  return { status: 500, body: { error: { code: ApiErrorCodes.INTERNAL, message: 'internal error' } } };
}

export function sendError(reply: FastifyReply, err: unknown, request?: FastifyRequest): FastifyReply {
  const { status, body } = toErrorReply(err, (e) => request?.log.error({ err: e }, 'request failed'));
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}

export const notFound = (what: string): ApiError => new ApiError(404, ApiErrorCodes.NOT_FOUND, what);

/** JSON schema of the error body, for the OpenAPI document. */
export const errorSchema = {
  type: 'object',
  properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } }, required: ['code', 'message'] } },
  required: ['error'],
} as const;
