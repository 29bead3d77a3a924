import { EmblemError } from '../../core/errors.js';
import type { ObservatoryStore } from '../../observatory/store.js';
import { StoreErrorCodes } from './errors.js';

export { StoreErrorCodes } from './errors.js';
export { StoreLimits } from './limits.js';

/**
 * Opens the observatory's database named by `url` and brings its schema up to date (migrate() is idempotent), so
 * the store is ready to use:
 *   sqlite:PATH          a file (created if missing; its directory must exist)
 *   sqlite::memory:      a private in-memory database (tests, one-shot runs)
 *   postgres://... or postgresql://...   a PostgreSQL server (libpq-style URL; ?host=/dir for a unix socket)
 * Throws STORE_URL_INVALID for anything else, STORE_UNAVAILABLE when the database cannot be reached.
 * Each backend's module is loaded only when used, so a SQLite user never loads pg and vice versa.
 */
export async function openObservatoryStore(url: string): Promise<ObservatoryStore> {
  const target = parseStoreUrl(url);
  let store: ObservatoryStore;
  if (target.kind === 'sqlite') {
    const { SqliteObservatoryStore } = await import('./sqlite.js');
    store = SqliteObservatoryStore.open(target.path);
  } else {
    const { PostgresObservatoryStore } = await import('./postgres.js');
    store = PostgresObservatoryStore.open(target.url);
  }
  try {
    await store.migrate();
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
  return store;
}

export type StoreUrl = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

export function parseStoreUrl(url: string): StoreUrl {
  if (typeof url !== 'string' || url.length === 0) {
    throw new EmblemError(StoreErrorCodes.STORE_URL_INVALID, 'the database URL is empty (sqlite:PATH or postgres://...)');
  }
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (path.length === 0) throw new EmblemError(StoreErrorCodes.STORE_URL_INVALID, 'sqlite: needs a path (sqlite:PATH or sqlite::memory:)');
    if (path.includes('\u0000')) throw new EmblemError(StoreErrorCodes.STORE_URL_INVALID, 'the SQLite path contains a NUL character');
    return { kind: 'sqlite', path };
  }
  // pg parses the rest (libpq forms such as postgres://user@/db?host=/socket/dir are not WHATWG URLs).
  if (/^postgres(ql)?:\/\//.test(url)) return { kind: 'postgres', url };
  // Do not echo the URL: it may hold a password.
  throw new EmblemError(StoreErrorCodes.STORE_URL_INVALID, 'the database URL must start with sqlite: or postgres://');
}
