/**
 * Stable failure codes of the observatory's database (src/store/database). Scripts and the observe service match
 * on them, so add new ones, never rename. (Kept here rather than in core/errors.ts because only the storage
 * adapters raise them; the core type `ErrorCode` admits any string.)
 */
export const StoreErrorCodes = {
  /** The database URL is not `sqlite:PATH`, `sqlite::memory:` or a `postgres://` / `postgresql://` URL. */
  STORE_URL_INVALID: 'STORE_URL_INVALID',
  /** The database cannot be reached or cannot write right now (connection refused or lost, server shutting down,
   *  timeout, SQLite file locked past the busy timeout, disk full or I/O error). Nothing of the failed call was
   *  stored; the caller keeps the data and retries, or stops loudly. Never a silent loss. */
  STORE_UNAVAILABLE: 'STORE_UNAVAILABLE',
  /** The database was written by a newer version of emblem (its schema version is above the one this code knows). */
  STORE_SCHEMA_TOO_NEW: 'STORE_SCHEMA_TOO_NEW',
  /** A call on a store after close(). */
  STORE_CLOSED: 'STORE_CLOSED',
  /** closeIncident named an incident id the database does not hold. */
  STORE_INCIDENT_UNKNOWN: 'STORE_INCIDENT_UNKNOWN',
  /** A record handed to the store is malformed or over a StoreLimits bound (a bug in the caller, not the database). */
  STORE_INPUT_INVALID: 'STORE_INPUT_INVALID',
  /** The database refused a statement for another reason (constraint, corruption); the cause is attached. */
  STORE_QUERY_FAILED: 'STORE_QUERY_FAILED',
} as const;
