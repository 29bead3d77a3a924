import type { FastifyInstance } from 'fastify';
import type { RouteKit } from './app.js';

export interface OrgArea {
  dir: string;
}

export async function registerOrgRoutes(_app: FastifyInstance, _kit: RouteKit, _area: OrgArea): Promise<void> {}
