import type { FastifyInstance } from 'fastify';
import type { RouteKit } from './app.js';
import type { CheckSettings, VerifySettings } from './context.js';

export class ScanJobs {
  close(): void {}
}

export async function registerScanRoutes(_app: FastifyInstance, _kit: RouteKit, _jobs: ScanJobs, _verify: VerifySettings, _check: CheckSettings): Promise<void> {}
