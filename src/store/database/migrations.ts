import { EmblemError } from '../../core/errors.js';
import { StoreErrorCodes } from './errors.js';

/**
 * The observatory's schema, as numbered migrations per backend. A database records the highest version applied
 * (table observatory_schema); migrate() applies the newer ones in one transaction, so it is idempotent and a crash
 * mid-upgrade leaves the old schema. Append new versions at the end; never edit an applied one.
 *
 * Tables are prefixed `observatory_` so the observatory can share a PostgreSQL database with other applications.
 * Observations are unique as a whole record (target, time, vantage point, status, leaf index), so re-sending a
 * batch whose commit was not acknowledged (the connection dropped) does not double it. At most one incident with
 * the same (type, target, detail) is open at a time, so retrying openIncident cannot open it twice.
 */
export interface Migration {
  version: number;
  statements: readonly string[];
}

export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    statements: [
      `CREATE TABLE observatory_target_states (
         target TEXT PRIMARY KEY,
         state TEXT NOT NULL,
         updated TEXT NOT NULL)`,
      `CREATE TABLE observatory_observations (
         id INTEGER PRIMARY KEY AUTOINCREMENT,
         target TEXT NOT NULL,
         time TEXT NOT NULL,
         vantage_point TEXT NOT NULL,
         status TEXT NOT NULL,
         leaf_index INTEGER)`,
      // Also the index of observations(target, from, to): its prefix is (target, time).
      `CREATE UNIQUE INDEX observatory_observations_identity
         ON observatory_observations (target, time, vantage_point, status, ifnull(leaf_index, -1))`,
      `CREATE TABLE observatory_incidents (
         id INTEGER PRIMARY KEY AUTOINCREMENT,
         type TEXT NOT NULL,
         target TEXT NOT NULL,
         severity TEXT NOT NULL,
         opened TEXT NOT NULL,
         closed TEXT,
         observations TEXT NOT NULL,
         detail TEXT NOT NULL)`,
      `CREATE UNIQUE INDEX observatory_incidents_open_identity
         ON observatory_incidents (type, target, detail) WHERE closed IS NULL`,
      `CREATE INDEX observatory_incidents_target ON observatory_incidents (target, opened)`,
      `CREATE TABLE observatory_cursors (
         key TEXT PRIMARY KEY,
         value TEXT NOT NULL)`,
    ],
  },
];

/** Text columns use the "C" collation: byte order, as in SQLite, whatever locale the server was created with. */
export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    statements: [
      `CREATE TABLE observatory_target_states (
         target TEXT COLLATE "C" PRIMARY KEY,
         state TEXT NOT NULL,
         updated TEXT COLLATE "C" NOT NULL)`,
      `CREATE TABLE observatory_observations (
         id BIGSERIAL PRIMARY KEY,
         target TEXT COLLATE "C" NOT NULL,
         time TEXT COLLATE "C" NOT NULL,
         vantage_point TEXT COLLATE "C" NOT NULL,
         status TEXT COLLATE "C" NOT NULL,
         leaf_index BIGINT)`,
      `CREATE UNIQUE INDEX observatory_observations_identity
         ON observatory_observations (target, time, vantage_point, status, COALESCE(leaf_index, -1))`,
      `CREATE TABLE observatory_incidents (
         id BIGSERIAL PRIMARY KEY,
         type TEXT COLLATE "C" NOT NULL,
         target TEXT COLLATE "C" NOT NULL,
         severity TEXT NOT NULL,
         opened TEXT COLLATE "C" NOT NULL,
         closed TEXT COLLATE "C",
         observations TEXT NOT NULL,
         detail TEXT NOT NULL)`,
      // md5: a B-tree entry holds at most ~2.7 KB and a detail may be up to 16 KiB.
      `CREATE UNIQUE INDEX observatory_incidents_open_identity
         ON observatory_incidents (type, target, md5(detail)) WHERE closed IS NULL`,
      `CREATE INDEX observatory_incidents_target ON observatory_incidents (target, opened)`,
      `CREATE TABLE observatory_cursors (
         key TEXT COLLATE "C" PRIMARY KEY,
         value TEXT NOT NULL)`,
    ],
  },
];

export const SCHEMA_TABLE = 'observatory_schema';

/**
 * The migrations a database at schema version `current` still needs, in order (none when it is up to date).
 * A database newer than this emblem knows is refused with STORE_SCHEMA_TOO_NEW rather than used half-understood.
 */
export function pendingMigrations(current: number, migrations: readonly Migration[]): Migration[] {
  const latest = migrations[migrations.length - 1]?.version ?? 0;
  if (current > latest) {
    throw new EmblemError(
      StoreErrorCodes.STORE_SCHEMA_TOO_NEW,
      `the database has schema version ${current}; this emblem knows up to ${latest} (upgrade emblem)`,
    );
  }
  return migrations.filter((m) => m.version > current);
}
