import { EmblemError } from '../../core/errors.js';
import { ScanErrorCodes } from '../errors.js';
import { ScanLimits } from '../limits.js';

/** Where the distributed scan's BullMQ queue lives, from `redis://[user:password@]host[:port][/db][?queue=name]`. */
export interface QueueLocation {
  connection: { host: string; port: number; db: number; username?: string; password?: string; maxRetriesPerRequest: null };
  queueName: string;
  /** For messages: the URL without credentials. */
  display: string;
}

export const DEFAULT_QUEUE_NAME = 'emblem-scan';

export function parseQueueUrl(text: string): QueueLocation {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new EmblemError('USAGE', `--queue ${JSON.stringify(text)} is not a URL (redis://host:port/db)`);
  }
  if (url.protocol !== 'redis:') throw new EmblemError('USAGE', '--queue needs a redis:// URL');
  const port = url.port === '' ? 6379 : Number(url.port);
  const dbText = url.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0 || db > 15) throw new EmblemError('USAGE', '--queue: the path must be a Redis database number 0..15');
  const queueName = url.searchParams.get('queue') ?? DEFAULT_QUEUE_NAME;
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(queueName)) throw new EmblemError('USAGE', '--queue: queue name must be 1-64 of [A-Za-z0-9_.-]');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return {
    // maxRetriesPerRequest: null is what BullMQ workers require (blocking commands must not time out).
    connection: {
      host,
      port,
      db,
      ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
      ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
      maxRetriesPerRequest: null,
    },
    queueName,
    display: `redis://${url.host}/${db}?queue=${queueName}`,
  };
}

/** Waits until a BullMQ object is connected, or fails with QUEUE_UNREACHABLE (ioredis would retry forever). */
export async function connectedWithin(ready: Promise<unknown>, location: QueueLocation): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new EmblemError(ScanErrorCodes.QUEUE_UNREACHABLE, `no answer from ${location.display} within ${ScanLimits.queueConnectTimeoutMs / 1000} s`)),
      ScanLimits.queueConnectTimeoutMs,
    );
  });
  try {
    await Promise.race([ready, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Closes BullMQ objects whose connection never came up (QUEUE_UNREACHABLE). Bounded: their close() waits for that
 * connection, and ioredis keeps reconnecting in the background, so the CLI ends the process after printing the error.
 */
export async function closeAfterFailedConnect(objects: ReadonlyArray<{ close(): Promise<void> }>): Promise<void> {
  await Promise.race([Promise.allSettled(objects.map((o) => o.close())), new Promise((r) => setTimeout(r, 2_000).unref())]);
}
