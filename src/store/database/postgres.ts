import pg from 'pg';
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
import { pendingMigrations, POSTGRES_MIGRATIONS, SCHEMA_TABLE } from './migrations.js';
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

/** Any constant: serialises concurrent migrate() calls (two services starting at once) on one database. */
const MIGRATION_LOCK_KEY = 0x656d626c; // "embl"

/**
 * The observatory's store in PostgreSQL (`--database postgres://...`), for deployments larger than one file.
 * A small pool of connections; every statement parameterised; batches go in as arrays through unnest(), one
 * statement per StoreLimits.insertBatchRows rows, all batches of one call in one transaction (all or nothing).
 *
 * When the server is unreachable or goes away, every call fails with STORE_UNAVAILABLE and nothing of it is
 * stored; the pool drops the broken connections and the next call after the server is back connects afresh.
 */
export class PostgresObservatoryStore implements ObservatoryStore {
  private pool: pg.Pool | undefined;

  private constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  static open(url: string): PostgresObservatoryStore {
    const pool = new pg.Pool({
      connectionString: url,
      max: StoreLimits.postgresPoolSize,
      connectionTimeoutMillis: StoreLimits.postgresConnectTimeoutMs,
      query_timeout: StoreLimits.postgresStatementTimeoutMs,
      statement_timeout: StoreLimits.postgresStatementTimeoutMs,
      application_name: 'emblem-observatory',
    });
    // An idle connection whose server went away emits 'error' on the pool; without a listener that would crash the
    // process. The pool has already discarded the connection, and the next query reports STORE_UNAVAILABLE itself.
    pool.on('error', () => {});
    return new PostgresObservatoryStore(pool);
  }

  async migrate(): Promise<void> {
    await this.transaction('migrate', async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      await client.query(`CREATE TABLE IF NOT EXISTS ${SCHEMA_TABLE} (version INTEGER NOT NULL)`);
      const { rows } = await client.query<{ version: number | null }>(`SELECT max(version) AS version FROM ${SCHEMA_TABLE}`);
      for (const migration of pendingMigrations(rows[0]?.version ?? 0, POSTGRES_MIGRATIONS)) {
        for (const sql of migration.statements) await client.query(sql);
        await client.query(`DELETE FROM ${SCHEMA_TABLE}`);
        await client.query(`INSERT INTO ${SCHEMA_TABLE} (version) VALUES ($1)`, [migration.version]);
      }
    });
  }

  async getTargetStates(targets: readonly string[]): Promise<Map<string, TargetStateRecord>> {
    const names = [...new Set(targets.map(checkTargetName))];
    const out = new Map<string, TargetStateRecord>();
    if (names.length === 0) return out;
    await this.withClient('getTargetStates', async (client) => {
      for (const batch of chunks(names, StoreLimits.lookupBatchTargets)) {
        // A join on unnest() walks the primary key once per name; `target = ANY($1)` measured 10x slower (an index
        // scan that re-checks the whole array per row).
        const { rows } = await client.query<TargetStateRecord>(
          `SELECT s.target, s.state, s.updated FROM unnest($1::text[]) AS n(target)
           JOIN observatory_target_states s ON s.target = n.target`,
          [batch],
        );
        for (const row of rows) out.set(row.target, row);
      }
    });
    return out;
  }

  async putTargetStates(records: readonly TargetStateRecord[]): Promise<void> {
    // One row per target: ON CONFLICT DO UPDATE refuses to touch a row twice in one statement.
    const rows = lastPerTarget(records);
    if (rows.length === 0) return;
    await this.transaction('putTargetStates', async (client) => {
      for (const batch of chunks(rows, StoreLimits.insertBatchRows)) {
        await client.query(
          `INSERT INTO observatory_target_states (target, state, updated)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
           ON CONFLICT (target) DO UPDATE SET state = EXCLUDED.state, updated = EXCLUDED.updated`,
          [batch.map((r) => r.target), batch.map((r) => r.state), batch.map((r) => r.updated)],
        );
      }
    });
  }

  async addObservations(records: readonly ObservationIndexRecord[]): Promise<void> {
    const rows = records.map(checkObservation);
    if (rows.length === 0) return;
    await this.transaction('addObservations', async (client) => {
      for (const batch of chunks(rows, StoreLimits.insertBatchRows)) {
        // DO NOTHING: an identical record is already there (a retried batch); see migrations.ts.
        await client.query(
          `INSERT INTO observatory_observations (target, time, vantage_point, status, leaf_index)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[])
           ON CONFLICT DO NOTHING`,
          [
            batch.map((r) => r.target),
            batch.map((r) => r.time),
            batch.map((r) => r.vantagePoint),
            batch.map((r) => r.status),
            batch.map((r) => r.leafIndex),
          ],
        );
      }
    });
  }

  async discardObservationsFromLeaf(size: number): Promise<number> {
    const from = checkLeafIndex('size', size);
    return this.withClient('discardObservationsFromLeaf', async (client) => {
      const result = await client.query('DELETE FROM observatory_observations WHERE leaf_index >= $1', [from]);
      return result.rowCount ?? 0;
    });
  }

  async discardIncidentObservationsFromLeaf(size: number): Promise<Array<{ id: number; dropped: number[] }>> {
    const from = checkLeafIndex('size', size);
    return this.transaction('discardIncidentObservationsFromLeaf', async (client) => {
      const { rows } = await client.query<IncidentRow>(
        `SELECT * FROM observatory_incidents
         WHERE EXISTS (SELECT 1 FROM jsonb_array_elements_text(observations::jsonb) AS leaf WHERE leaf::bigint >= $1)
         ORDER BY id FOR UPDATE`,
        [from],
      );
      const out: Array<{ id: number; dropped: number[] }> = [];
      for (const row of rows) {
        const repaired = withoutLeavesFrom(row, from);
        if (!repaired) continue;
        await client.query('UPDATE observatory_incidents SET observations = $1, detail = $2 WHERE id = $3', [JSON.stringify(repaired.observations), repaired.detail, row.id]);
        out.push({ id: toSafeInteger(row.id), dropped: repaired.dropped });
      }
      return out;
    });
  }

  async observations(target: string, from: string, to: string, limit?: number): Promise<ObservationIndexRecord[]> {
    const args = [checkTargetName(target), checkTime('from', from), checkTime('to', to), observationLimit(limit)];
    return this.withClient('observations', async (client) => {
      const { rows } = await client.query<ObservationRow>(
        `SELECT target, time, vantage_point, status, leaf_index FROM observatory_observations
         WHERE target = $1 AND time >= $2 AND time <= $3 ORDER BY time, id LIMIT $4`,
        args,
      );
      return rows.map(observationFromRow);
    });
  }

  async openIncident(incident: NewIncident): Promise<IncidentRecord> {
    const i = checkNewIncident(incident);
    return this.transaction('openIncident', async (client) => {
      const inserted = await client.query<IncidentRow>(
        `INSERT INTO observatory_incidents (type, target, severity, opened, closed, observations, detail)
         VALUES ($1, $2, $3, $4, NULL, $5, $6) ON CONFLICT DO NOTHING RETURNING *`,
        [i.type, i.target, i.severity, i.opened, JSON.stringify(i.observations), i.detail],
      );
      if (inserted.rows[0]) return incidentFromRow(inserted.rows[0]);
      // The same incident is already open (a retried call): return it unchanged.
      const open = await client.query<IncidentRow>(
        `SELECT * FROM observatory_incidents WHERE type = $1 AND target = $2 AND detail = $3 AND closed IS NULL`,
        [i.type, i.target, i.detail],
      );
      if (!open.rows[0]) {
        throw new EmblemError(StoreErrorCodes.STORE_QUERY_FAILED, `openIncident: insert refused and no open ${i.type} for ${i.target}`);
      }
      return incidentFromRow(open.rows[0]);
    });
  }

  async closeIncident(id: number, closed: string, observations: readonly number[] = []): Promise<void> {
    const { id: checkedId, closed: closedAt, added } = checkIncidentClose(id, closed, observations);
    await this.transaction('closeIncident', async (client) => {
      const { rows } = await client.query<IncidentRow>('SELECT * FROM observatory_incidents WHERE id = $1 FOR UPDATE', [checkedId]);
      const row = rows[0];
      if (!row) throw new EmblemError(StoreErrorCodes.STORE_INCIDENT_UNKNOWN, `no incident with id ${checkedId}`);
      if (row.closed !== null) return; // already closed: a retried close changes nothing
      const all = mergeObservations(incidentFromRow(row).observations, added);
      await client.query('UPDATE observatory_incidents SET closed = $1, observations = $2 WHERE id = $3', [
        closedAt,
        JSON.stringify(all),
        checkedId,
      ]);
    });
  }

  async incidents(filter: { open?: boolean; target?: string } = {}): Promise<IncidentRecord[]> {
    const { sql, args } = incidentsQuery(filter, (n) => `$${n}`);
    return this.withClient('incidents', async (client) => (await client.query<IncidentRow>(sql, args)).rows.map(incidentFromRow));
  }

  async getCursor(key: string): Promise<string | undefined> {
    checkCursor(key);
    return this.withClient('getCursor', async (client) => {
      const { rows } = await client.query<{ value: string }>('SELECT value FROM observatory_cursors WHERE key = $1', [key]);
      return rows[0]?.value;
    });
  }

  async setCursor(key: string, value: string): Promise<void> {
    checkCursor(key, value);
    await this.withClient('setCursor', async (client) => {
      await client.query(
        'INSERT INTO observatory_cursors (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value',
        [key, value],
      );
    });
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end();
  }

  private async withClient<T>(what: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    if (!this.pool) throw new EmblemError(StoreErrorCodes.STORE_CLOSED, 'the observatory store is closed');
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw translatePostgresError(err, `PostgreSQL ${what}: cannot connect`);
    }
    let broken: Error | undefined;
    // A checked-out client whose connection dies between two queries (the server shutting down) emits 'error';
    // without a listener that is an uncaught exception that ends the process. Note it: the next query fails anyway.
    const onError = (err: Error): void => {
      broken ??= err;
    };
    client.on('error', onError);
    try {
      return await work(client);
    } catch (err) {
      // A connection-level failure: destroy this client rather than return it to the pool.
      if (isConnectionFailure(err)) broken ??= err instanceof Error ? err : new Error(String(err));
      throw translatePostgresError(err, `PostgreSQL ${what} failed`);
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  private async transaction<T>(what: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.withClient(what, async (client) => {
      await client.query('BEGIN');
      try {
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        // If the connection is gone the server has rolled back already; the ROLLBACK then fails and is moot.
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      }
    });
  }
}

/**
 * Connection-level failures: socket errors, the server shutting down or refusing connections (SQLSTATE class 08
 * connection exception, 57P01-57P03 admin/crash shutdown and "cannot connect now", 53300 too many connections),
 * and timeouts. Everything else (a constraint, a syntax error) is a query failure.
 */
function isConnectionFailure(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ENOENT)$/.test(code)) return true;
    if (/^08/.test(code) || /^57P0[123]$/.test(code) || code === '53300') return true;
  }
  const message = err instanceof Error ? err.message : String(err);
  return /Connection terminated|timeout exceeded when trying to connect|Query read timeout|connection.*(closed|ended)|Client has encountered a connection error/i.test(
    message,
  );
}

function translatePostgresError(err: unknown, context: string): EmblemError {
  if (err instanceof EmblemError) return err;
  const message = err instanceof Error ? err.message || String((err as { code?: unknown }).code ?? err) : String(err);
  // 57014 query_canceled: statement_timeout fired (a hung or overloaded server).
  const code = (err as { code?: unknown }).code;
  if (isConnectionFailure(err) || code === '57014') {
    return new EmblemError(StoreErrorCodes.STORE_UNAVAILABLE, `${context}: ${message}`, { cause: err });
  }
  return new EmblemError(StoreErrorCodes.STORE_QUERY_FAILED, `${context}: ${message}`, { cause: err });
}
