import type { FastifyInstance } from 'fastify';
import type { RouteKit } from './app.js';

export interface ObservatoryArea {
  dir: string;
}

export async function registerObservatoryRoutes(_app: FastifyInstance, _kit: RouteKit, _area: ObservatoryArea): Promise<void> {}
