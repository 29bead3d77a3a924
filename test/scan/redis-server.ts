import { spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { thirdPartyEnv } from '../helpers/third-party.js';
import { freeTcpPort } from '../helpers/ports.js';

export interface RunningRedis {
  url: string;
  stop(): Promise<void>;
}

/** Is redis-server installed? On CI (CI=true) the distributed tests must fail rather than skip without it. */
export function redisAvailable(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore', env: thirdPartyEnv() }).status === 0;
}


/** A throwaway Debian redis-server on 127.0.0.1, no persistence. */
export async function startRedis(): Promise<RunningRedis> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freeTcpPort();
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'], { stdio: 'ignore', env: thirdPartyEnv() });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    let up = false;
    for (let i = 0; i < 100 && child.exitCode === null; i++) {
      up = await new Promise<boolean>((resolve) => {
        const sock = connect({ host: '127.0.0.1', port }, () => {
          sock.end();
          resolve(true);
        });
        sock.once('error', () => resolve(false));
      });
      if (up) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    if (up) {
      return {
        url: `redis://127.0.0.1:${port}/0`,
        async stop() {
          child.kill('SIGTERM');
          await exited;
        },
      };
    }
    child.kill('SIGKILL');
    await exited;
  }
  throw new Error('redis-server did not start');
}
