import { readFile, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, ApiErrorCodes } from './errors.js';

/** The dashboard's page routes: a deep link (/check?name=..., /observatory/targets/x) gets index.html. */
export const PAGE_ROUTES = ['/check', '/org', '/authority', '/observatory', '/scan'] as const;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

/** Largest file served (the dashboard's bundle is well under 1 MB; this only guards against a stray big file). */
const MAX_FILE_BYTES = 16 * 1024 * 1024;

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Emblem</title></head><body>
<h1>Emblem</h1><p>The dashboard is not built (dist/web is missing: run <code>npm run build</code>). The API is at
<a href="/api/openapi.json">/api/openapi.json</a>.</p></body></html>\n`;

export function isPageRoute(path: string): boolean {
  return path === '/' || PAGE_ROUTES.some((p) => path === p || path.startsWith(`${p}/`));
}

/** Serves dist/web: files by path (never outside the folder), page routes as index.html, gzip/br siblings when asked. */
export async function registerStaticRoutes(app: FastifyInstance, webRoot: string | null): Promise<void> {
  const root = webRoot ? resolve(webRoot) : null;

  async function sendFile(request: FastifyRequest, reply: FastifyReply, path: string, isPage: boolean): Promise<boolean> {
    const info = await stat(path).catch(() => null);
    if (!info?.isFile() || info.size > MAX_FILE_BYTES) return false;
    const accept = String(request.headers['accept-encoding'] ?? '');
    let body: Buffer | null = null;
    for (const [enc, suffix] of [['br', '.br'], ['gzip', '.gz']] as const) {
      if (!new RegExp(`\\b${enc}\\b`).test(accept)) continue;
      const packed = await readFile(`${path}${suffix}`).catch(() => null);
      if (packed) {
        body = packed;
        reply.header('content-encoding', enc);
        break;
      }
    }
    reply.header('vary', 'accept-encoding');
    reply.type(TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream');
    // Pages change with each build; bundles may be cached for a short while (file names are not hashed).
    reply.header('cache-control', isPage ? 'no-cache' : 'public, max-age=300');
    await reply.send(body ?? (await readFile(path)));
    return true;
  }

  app.get('/*', { schema: { hide: true } }, async (request, reply) => {
    const rawPath = request.url.split('?')[0]!;
    if (rawPath.startsWith('/api/') || rawPath === '/api') throw new ApiError(404, ApiErrorCodes.NOT_FOUND, `no such resource: GET ${rawPath}`);
    let path: string;
    try {
      path = decodeURIComponent(rawPath);
    } catch {
      throw new ApiError(400, 'USAGE', 'malformed path');
    }
    if (path.includes('\0') || path.split('/').includes('..')) throw new ApiError(400, 'USAGE', 'malformed path');
    const page = isPageRoute(path);
    if (root) {
      if (!page) {
        const file = resolve(join(root, path));
        if (file.startsWith(root + sep) && (await sendFile(request, reply, file, false))) return reply;
      } else if (await sendFile(request, reply, join(root, 'index.html'), true)) return reply;
    }
    if (page) return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(NOT_BUILT);
    throw new ApiError(404, ApiErrorCodes.NOT_FOUND, `no such file: ${rawPath}`);
  });
}
