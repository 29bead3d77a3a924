import { createServer } from 'node:net';

/**
 * A TCP port free on 127.0.0.1 right now, for a server that cannot be told "port 0" (PostgreSQL, Redis, Pebble).
 * Another process may take it before the server binds; such a server fails to start with a clear error.
 * (test/dns/servers.ts freePort: free for UDP too, for DNS servers.)
 */
export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}
