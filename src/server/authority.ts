import type { FastifyInstance } from 'fastify';
import type { RouteKit } from './app.js';

export interface AuthorityArea {
  dir: string;
}

export async function registerAuthorityRoutes(_app: FastifyInstance, _kit: RouteKit, _area: AuthorityArea): Promise<void> {}
