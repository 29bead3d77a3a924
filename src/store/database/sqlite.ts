import Database from 'better-sqlite3';
import { EmblemError } from '../../core/errors.js';
import type {
  IncidentRecord,
  NewIncident,
  ObservationIndexRecord,
  ObservatoryStore,
  TargetStateRecord,
} from '../../observatory/store.js';
import { StoreErrorCodes } from './errors.js';
import { StoreLimits } from './limits.js';
import { pendingMigrations, SCHEMA_TABLE, SQLITE_MIGRATIONS } from './migrations.js';
import {
  checkCursor,
  checkIncidentClose,
  checkNewIncident,
  checkObservation,
  checkLeafIndex,
  checkTargetName,
  checkTime,
  chunks,
  incidentsQuery,
  incidentFromRow,
  lastPerTarget,
  mergeObservations,
  observationFromRow,
  observationLimit,
  type IncidentRow,
  type ObservationRow,
  toSafeInteger,
  withoutLeavesFrom,
} from './records.js';

/**
 * The observatory's store in one SQLite file (the default). better-sqlite3 is synchronous: each call runs to the
 * end on the calling thread, which is what the observe service wants from a local file (a 1,000-row batch is a
 * millisecond or two); the async interface is for PostgreSQL's sake.
 *
 * WAL lets `emblem observe incidents` and the API read while the service writes; synchronous=FULL makes every
 * committed batch survive a power loss (in WAL mode NORMAL may roll back the last commits, and an incident that
 * was alerted must not be forgotten); the cost is one fsync per batch, not per row.
 */
export class SqliteObservatoryStore implements ObservatoryStore {
  private db: Database.Database | undefined;
  private readonly statements = new Map<string, Database.Statement>();

  private constructor(db: Database.Database) {
    this.db = db;
  }

  /** Opens (creating if missing) the file at `path`, or a private in-memory database for ':memory:'.
   *  `busyTimeoutMs` (tests) replaces StoreLimits.sqliteBusyTimeoutMs. */
  static open(path: string, options: { busyTimeoutMs?: number } = {}): SqliteObservatoryStore {
    let db: Database.Database;
    try {
      db = new Database(path, { timeout: options.busyTimeoutMs ?? StoreLimits.sqliteBusyTimeoutMs });
    } catch (err) {
      throw translateSqliteError(err, `cannot open the SQLite database ${path}`);
    }
    try {
      if (path !== ':memory:') db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
    } catch (err) {
      db.close();
      throw translateSqliteError(err, `cannot set up the SQLite database ${path}`);
    }
    return new SqliteObservatoryStore(db);
  }

  async migrate(): Promise<void> {
    this.run('migrate', (db) => {
      db.transaction(() => {
        db.exec(`CREATE TABLE IF NOT EXISTS ${SCHEMA_TABLE} (version INTEGER NOT NULL)`);
        const row = db.prepare(`SELECT max(version) AS version FROM ${SCHEMA_TABLE}`).get() as { version: number | null };
        for (const migration of pendingMigrations(row.version ?? 0, SQLITE_MIGRATIONS)) {
          for (const sql of migration.statements) db.exec(sql);
          db.prepare(`DELETE FROM ${SCHEMA_TABLE}`).run();
          db.prepare(`INSERT INTO ${SCHEMA_TABLE} (version) VALUES (?)`).run(migration.version);
        }
      }).immediate();
    });
  }

  async getTargetStates(targets: readonly string[]): Promise<Map<string, TargetStateRecord>> {
    const names = [...new Set(targets.map(checkTargetName))];
    return this.run('getTargetStates', () => {
      const out = new Map<string, TargetStateRecord>();
      // The names go in as one JSON array parameter: one prepared statement whatever the batch size.
      const lookup = this.statement(
        `SELECT target, state, updated FROM observatory_target_states WHERE target IN (SELECT value FROM json_each(?))`,
      );
      for (const batch of chunks(names, StoreLimits.lookupBatchTargets)) {
        for (const row of lookup.all(JSON.stringify(batch)) as TargetStateRecord[]) out.set(row.target, row);
      }
      return out;
    });
  }

  async putTargetStates(records: readonly TargetStateRecord[]): Promise<void> {
    const rows = lastPerTarget(records);
    this.run('putTargetStates', (db) => {
      const upsert = this.statement(
        `INSERT INTO observatory_target_states (target, state, updated) VALUES (?, ?, ?)
         ON CONFLICT (target) DO UPDATE SET state = excluded.state, updated = excluded.updated`,
      );
      db.transaction(() => {
        for (const r of rows) upsert.run(r.target, r.state, r.updated);
      })();
    });
  }

  async addObservations(records: readonly ObservationIndexRecord[]): Promise<void> {
    const rows = records.map(checkObservation);
    this.run('addObservations', (db) => {
      // OR IGNORE: an identical record is already there (a retried batch); see migrations.ts.
      const insert = this.statement(
        `INSERT OR IGNORE INTO observatory_observations (target, time, vantage_point, status, leaf_index) VALUES (?, ?, ?, ?, ?)`,
      );
      db.transaction(() => {
        for (const r of rows) insert.run(r.target, r.time, r.vantagePoint, r.status, r.leafIndex);
      })();
    });
  }

  async discardObservationsFromLeaf(size: number): Promise<number> {
    const from = checkLeafIndex('size', size);
    return this.run('discardObservationsFromLeaf', () =>
      this.statement(`DELETE FROM observatory_observations WHERE leaf_index >= ?`).run(from).changes);
  }

  async discardIncidentObservationsFromLeaf(size: number): Promise<Array<{ id: number; dropped: number[] }>> {
    const from = checkLeafIndex('size', size);
    return this.run('discardIncidentObservationsFromLeaf', (db) =>
      db.transaction(() => {
        const rows = this.statement(
          `SELECT * FROM observatory_incidents WHERE EXISTS (SELECT 1 FROM json_each(observations) WHERE value >= ?) ORDER BY id`,
        ).all(from) as IncidentRow[];
        const out: Array<{ id: number; dropped: number[] }> = [];
        for (const row of rows) {
          const repaired = withoutLeavesFrom(row, from);
          if (!repaired) continue;
          this.statement(`UPDATE observatory_incidents SET observations = ?, detail = ? WHERE id = ?`).run(JSON.stringify(repaired.observations), repaired.detail, row.id);
          out.push({ id: toSafeInteger(row.id), dropped: repaired.dropped });
        }
        return out;
      }).immediate(),
    );
  }

  async observations(target: string, from: string, to: string, limit?: number): Promise<ObservationIndexRecord[]> {
    const args = [checkTargetName(target), checkTime('from', from), checkTime('to', to), observationLimit(limit)];
    return this.run('observations', () => {
      const rows = this.statement(
        `SELECT target, time, vantage_point, status, leaf_index FROM observatory_observations
         WHERE target = ? AND time >= ? AND time <= ? ORDER BY time, id LIMIT ?`,
      ).all(...args) as ObservationRow[];
      return rows.map(observationFromRow);
    });
  }

  async openIncident(incident: NewIncident): Promise<IncidentRecord> {
    const i = checkNewIncident(incident);
    return this.run('openIncident', (db) =>
      db.transaction(() => {
        const open = this.statement(
          `SELECT * FROM observatory_incidents WHERE type = ? AND target = ? AND detail = ? AND closed IS NULL`,
        ).get(i.type, i.target, i.detail) as IncidentRow | undefined;
        if (open) return incidentFromRow(open);
        const row = this.statement(
          `INSERT INTO observatory_incidents (type, target, severity, opened, closed, observations, detail)
           VALUES (?, ?, ?, ?, NULL, ?, ?) RETURNING *`,
        ).get(i.type, i.target, i.severity, i.opened, JSON.stringify(i.observations), i.detail) as IncidentRow;
        return incidentFromRow(row);
      }).immediate(),
    );
  }

  async closeIncident(id: number, closed: string, observations: readonly number[] = []): Promise<void> {
    const { id: checkedId, closed: closedAt, added } = checkIncidentClose(id, closed, observations);
    this.run('closeIncident', (db) =>
      db.transaction(() => {
        const row = this.statement(`SELECT * FROM observatory_incidents WHERE id = ?`).get(checkedId) as IncidentRow | undefined;
        if (!row) throw new EmblemError(StoreErrorCodes.STORE_INCIDENT_UNKNOWN, `no incident with id ${checkedId}`);
        if (row.closed !== null) return; // already closed: a retried close changes nothing
        const all = mergeObservations(incidentFromRow(row).observations, added);
        this.statement(`UPDATE observatory_incidents SET closed = ?, observations = ? WHERE id = ?`).run(
          closedAt,
          JSON.stringify(all),
          checkedId,
        );
      }).immediate(),
    );
  }

  async incidents(filter: { open?: boolean; target?: string } = {}): Promise<IncidentRecord[]> {
    const { sql, args } = incidentsQuery(filter, () => '?');
    return this.run('incidents', () => (this.statement(sql).all(...args) as IncidentRow[]).map(incidentFromRow));
  }

  async getCursor(key: string): Promise<string | undefined> {
    checkCursor(key);
    return this.run('getCursor', () => {
      const row = this.statement(`SELECT value FROM observatory_cursors WHERE key = ?`).get(key) as { value: string } | undefined;
      return row?.value;
    });
  }

  async setCursor(key: string, value: string): Promise<void> {
    checkCursor(key, value);
    this.run('setCursor', () => {
      this.statement(
        `INSERT INTO observatory_cursors (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      ).run(key, value);
    });
  }

  async close(): Promise<void> {
    const db = this.db;
    this.db = undefined;
    this.statements.clear();
    db?.close();
  }

  /** A prepared statement, prepared once per SQL text (the set of texts is small and fixed). */
  private statement(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.database().prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  private database(): Database.Database {
    if (!this.db) throw new EmblemError(StoreErrorCodes.STORE_CLOSED, 'the observatory store is closed');
    return this.db;
  }

  private run<T>(what: string, work: (db: Database.Database) => T): T {
    const db = this.database();
    try {
      return work(db);
    } catch (err) {
      throw translateSqliteError(err, `SQLite ${what} failed`);
    }
  }
}

/**
 * SQLite result codes that mean "cannot write/read right now" (lock held past the busy timeout, disk full, I/O
 * error, file gone or read-only): STORE_UNAVAILABLE, so the caller keeps its data and retries or stops loudly.
 */
const UNAVAILABLE_CODE = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|READONLY|PROTOCOL)/;

function translateSqliteError(err: unknown, context: string): EmblemError {
  if (err instanceof EmblemError) return err;
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  if (typeof code === 'string' && UNAVAILABLE_CODE.test(code)) {
    return new EmblemError(StoreErrorCodes.STORE_UNAVAILABLE, `${context}: ${message} (${code})`, { cause: err });
  }
  // better-sqlite3 throws a TypeError when the file's directory does not exist.
  if (err instanceof TypeError && /directory does not exist/i.test(message)) {
    return new EmblemError(StoreErrorCodes.STORE_UNAVAILABLE, `${context}: ${message}`, { cause: err });
  }
  return new EmblemError(StoreErrorCodes.STORE_QUERY_FAILED, `${context}: ${message}`, { cause: err });
}
