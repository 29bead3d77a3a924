/**
 * The observatory's database: target state, incidents, the observation index and follow positions (CT watch).
 * One small interface with two implementations behind it (SQLite by default, PostgreSQL for larger deployments),
 * and one shared test suite run against both (test/observatory/store-suite.ts).
 *
 * Times are ISO-8601 strings in UTC (what `--at` takes); they sort as text. The store keeps them in the one form
 * Date#toISOString writes (other spellings of a UTC time are normalised to it).
 *
 * Implementations: src/store/database (openObservatoryStore(url)). Failures are EmblemErrors with the codes in
 * src/store/database/errors.ts; STORE_UNAVAILABLE means nothing of that call was stored (keep the data and retry,
 * or stop loudly), and the write methods are safe to retry (see each).
 */

export type IncidentType =
  | 'EMBLEM_MISSING'
  | 'LEVEL_DROPPED'
  | 'ENDORSEMENT_REMOVED'
  | 'KEY_CHANGED'
  | 'EXPIRING'
  | 'INCONSISTENT'
  | 'UNREACHABLE'
  | 'CT_UNEXPECTED_CERTIFICATE'
  | 'CT_LOG_INCONSISTENT';

export type IncidentSeverity = 'critical' | 'warning' | 'info';

export interface IncidentRecord {
  id: number;
  type: IncidentType;
  target: string;
  severity: IncidentSeverity;
  opened: string;
  /** null while the incident is open. */
  closed: string | null;
  /** Evidence-log leaf indexes of the observations that opened (and later closed) it. */
  observations: number[];
  /** Human-readable detail, e.g. "ENDORSED-TRUSTED -> SIGNED-UNTRUSTED". */
  detail: string;
}

export type NewIncident = Omit<IncidentRecord, 'id' | 'closed'>;

/** The per-target memory of the incident state machine, stored as JSON text (the machine owns its shape). */
export interface TargetStateRecord {
  target: string;
  state: string;
  updated: string;
}

/** One observation in the index: where in the evidence log it is, and what it found. */
export interface ObservationIndexRecord {
  target: string;
  time: string;
  vantagePoint: string;
  /** e.g. "ENDORSED-TRUSTED", "no-emblem", "nxdomain", "error". */
  status: string;
  /** Leaf index in the evidence log (null when evidence logging is off). */
  leafIndex: number | null;
}

export interface ObservatoryStore {
  /** Creates or upgrades the schema; idempotent. */
  migrate(): Promise<void>;

  getTargetStates(targets: readonly string[]): Promise<Map<string, TargetStateRecord>>;
  putTargetStates(records: readonly TargetStateRecord[]): Promise<void>;

  /** All or nothing. Re-adding a record identical in every field is a no-op, so a batch may be retried. */
  addObservations(records: readonly ObservationIndexRecord[]): Promise<void>;
  /**
   * Removes the index rows that point at leaf `size` or later and returns how many. The evidence log keeps only
   * what a published checkpoint covers: after a crash it drops later entries and reuses their leaf indexes, so at
   * start-up the service calls this with the log's size and the index never points at a lost or reused leaf.
   * Rows without a leaf (evidence logging off) stay. Idempotent.
   */
  discardObservationsFromLeaf(size: number): Promise<number>;
  /**
   * The same repair for incidents: removes leaf indexes >= `size` from every incident's observation list (they
   * named observations a crash lost, whose indexes the log reuses) and notes it in the incident's detail. Returns
   * the incidents changed and the indexes dropped from each. Idempotent.
   */
  discardIncidentObservationsFromLeaf(size: number): Promise<Array<{ id: number; dropped: number[] }>>;
  /** Observations of one target with from <= time <= to, oldest first, at most `limit`. */
  observations(target: string, from: string, to: string, limit?: number): Promise<ObservationIndexRecord[]>;

  /** At most one incident with the same (type, target, detail) is open: opening it again returns the open one. */
  openIncident(incident: NewIncident): Promise<IncidentRecord>;
  /** Sets `closed` and appends `observations` (without repeats); closing a closed incident changes nothing;
   *  an unknown id is STORE_INCIDENT_UNKNOWN. */
  closeIncident(id: number, closed: string, observations?: readonly number[]): Promise<void>;
  /** All incidents (or only the open ones), oldest first. */
  incidents(filter?: { open?: boolean; target?: string }): Promise<IncidentRecord[]>;

  /** Small named positions, e.g. a CT log's last verified tree size and root ("ct:<logId>"). */
  getCursor(key: string): Promise<string | undefined>;
  setCursor(key: string, value: string): Promise<void>;

  close(): Promise<void>;
}
