import Database from 'better-sqlite3';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EmblemError } from '../core/errors.js';
import type { RequestedConstraints } from './request.js';
import { parseResponse } from './response.js';

export type EndorsementStatus = 'active' | 'revoked' | 'superseded';

/** One endorsement the authority issued. Times are NumericDates (seconds). */
export interface EndorsementRecord {
  id: string;
  organization: string;
  kid: string;
  coseKid: string;
  constraints: RequestedConstraints;
  issued: number;
  expires: number;
  status: EndorsementStatus;
  reason: string | null;
  revokedAt: number | null;
  /** The response file kept in the folder (issued/<id>.json): the registry's own copy. */
  issuedFile: string;
  /** Where grant/renew also wrote it for the organisation (may be outside the folder). */
  responseFile: string | null;
  requestFile: string | null;
  renewedFrom: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS endorsements (
  id TEXT PRIMARY KEY,
  organization TEXT NOT NULL,
  kid TEXT NOT NULL,
  cose_kid TEXT NOT NULL,
  constraints TEXT NOT NULL,
  issued INTEGER NOT NULL,
  expires INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active', 'revoked', 'superseded')),
  reason TEXT,
  revoked_at INTEGER,
  issued_file TEXT NOT NULL,
  response_file TEXT,
  request_file TEXT,
  renewed_from TEXT
);
CREATE INDEX IF NOT EXISTS endorsements_expires ON endorsements (status, expires);
CREATE INDEX IF NOT EXISTS endorsements_org ON endorsements (organization);
CREATE INDEX IF NOT EXISTS endorsements_kid ON endorsements (kid);
CREATE TABLE IF NOT EXISTS nonces (nonce TEXT PRIMARY KEY, organization TEXT NOT NULL, seen INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, action TEXT NOT NULL, detail TEXT NOT NULL);
`;

interface Row {
  id: string;
  organization: string;
  kid: string;
  cose_kid: string;
  constraints: string;
  issued: number;
  expires: number;
  status: EndorsementStatus;
  reason: string | null;
  revoked_at: number | null;
  issued_file: string;
  response_file: string | null;
  request_file: string | null;
  renewed_from: string | null;
}

function fromRow(r: Row): EndorsementRecord {
  return {
    id: r.id,
    organization: r.organization,
    kid: r.kid,
    coseKid: r.cose_kid,
    constraints: JSON.parse(r.constraints) as RequestedConstraints,
    issued: r.issued,
    expires: r.expires,
    status: r.status,
    reason: r.reason,
    revokedAt: r.revoked_at,
    issuedFile: r.issued_file,
    responseFile: r.response_file,
    requestFile: r.request_file,
    renewedFrom: r.renewed_from,
  };
}

/**
 * The authority's registry of issued endorsements: SQLite in WAL mode (D/registry.sqlite). Each change is one
 * transaction. The order of writes makes a crash safe both ways: the response is first written (atomically) to
 * issued/<id>.json, then recorded; on open, any issued file without a row is recorded (recovered), so no
 * endorsement is ever written out but not recorded, and none is recorded that was not written out.
 */
export class Registry {
  private constructor(
    readonly db: Database.Database,
    readonly dir: string,
  ) {}

  static open(dir: string, o: { reconcile?: boolean; now?: number } = {}): Registry {
    let db: Database.Database;
    try {
      db = new Database(join(dir, 'registry.sqlite'));
    } catch (err) {
      throw new EmblemError('REGISTRY_UNAVAILABLE', `cannot open ${join(dir, 'registry.sqlite')}: ${(err as Error).message}`);
    }
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    db.exec(SCHEMA);
    const r = new Registry(db, dir);
    if (o.reconcile !== false) r.reconcile(o.now ?? 0);
    return r;
  }

  close(): void {
    this.db.close();
  }

  /** Records issued files that a crash left unrecorded (written, then killed before the commit). */
  reconcile(now: number): string[] {
    const folder = join(this.dir, 'issued');
    if (!existsSync(folder)) return [];
    // One query for every known id, then a set lookup per file: a per-file SELECT made every CLI call (list, show)
    // cost ~20 µs per issued file, about 200 ms at 10,000 endorsements (bench/authority.bench.ts).
    const known = new Set((this.db.prepare('SELECT id FROM endorsements').pluck().all() as string[]));
    const recovered: string[] = [];
    for (const name of readdirSync(folder)) {
      if (!name.endsWith('.json')) continue;
      const id = name.slice(0, -'.json'.length);
      if (known.has(id)) continue;
      let response;
      try {
        response = parseResponse(readFileSync(join(folder, name), 'utf8'));
      } catch {
        continue; // a torn temp file cannot exist (atomic writes); anything else unreadable is not ours to record
      }
      if (response.id !== id) continue;
      this.record(
        {
          id,
          organization: response.organization,
          kid: response.kid,
          coseKid: response.coseKid,
          constraints: response.constraints,
          issued: Math.floor(Date.parse(response.issued) / 1000),
          expires: Math.floor(Date.parse(response.expires) / 1000),
          status: 'active',
          reason: null,
          revokedAt: null,
          issuedFile: `issued/${name}`,
          responseFile: null,
          requestFile: null,
          renewedFrom: response.renewedFrom ?? null,
        },
        { now, nonce: null, action: 'recover' },
      );
      recovered.push(id);
    }
    return recovered;
  }

  nonceSeen(nonce: string): boolean {
    return this.db.prepare('SELECT 1 FROM nonces WHERE nonce = ?').get(nonce) !== undefined;
  }

  /** Inserts one record (and its request nonce; a renewal supersedes its predecessor) in one transaction. */
  record(rec: EndorsementRecord, o: { now: number; nonce: string | null; action: string }): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO endorsements (id, organization, kid, cose_kid, constraints, issued, expires, status, reason, revoked_at, issued_file, response_file, request_file, renewed_from)
           VALUES (@id, @organization, @kid, @coseKid, @constraints, @issued, @expires, @status, @reason, @revokedAt, @issuedFile, @responseFile, @requestFile, @renewedFrom)`,
        )
        .run({ ...rec, constraints: JSON.stringify(rec.constraints) });
      if (o.nonce) this.db.prepare('INSERT INTO nonces (nonce, organization, seen) VALUES (?, ?, ?)').run(o.nonce, rec.organization, o.now);
      if (rec.renewedFrom) this.db.prepare("UPDATE endorsements SET status = 'superseded' WHERE id = ? AND status = 'active'").run(rec.renewedFrom);
      this.event(o.now, o.action, { id: rec.id, organization: rec.organization, kid: rec.kid, expires: rec.expires, ...(rec.renewedFrom ? { renewedFrom: rec.renewedFrom } : {}) });
    })();
  }

  event(at: number, action: string, detail: Record<string, unknown>): void {
    this.db.prepare('INSERT INTO events (at, action, detail) VALUES (?, ?, ?)').run(at, action, JSON.stringify(detail));
  }

  get(id: string): EndorsementRecord | null {
    const r = this.db.prepare('SELECT * FROM endorsements WHERE id = ?').get(id) as Row | undefined;
    return r ? fromRow(r) : null;
  }

  /** Every record, newest first; with `expiringBefore`, only active ones expiring by then (soonest first). */
  list(o: { expiringBefore?: number } = {}): EndorsementRecord[] {
    const rows =
      o.expiringBefore === undefined
        ? (this.db.prepare('SELECT * FROM endorsements ORDER BY issued DESC, id').all() as Row[])
        : (this.db.prepare("SELECT * FROM endorsements WHERE status = 'active' AND expires <= ? ORDER BY expires, id").all(o.expiringBefore) as Row[]);
    return rows.map(fromRow);
  }

  /** Records of an organisation identifier (or bare host) or a root kid (JWS or COSE form). */
  find(orgOrKid: string): EndorsementRecord[] {
    const org = /^https:\/\//.test(orgOrKid) ? orgOrKid : `https://${orgOrKid}`;
    const rows = this.db.prepare('SELECT * FROM endorsements WHERE organization = ? OR kid = ? OR cose_kid = ? ORDER BY issued DESC, id').all(org, orgOrKid, orgOrKid) as Row[];
    return rows.map(fromRow);
  }

  /** Marks every active record of ORG|KID revoked (one transaction); returns them. */
  revoke(orgOrKid: string, reason: string, now: number): EndorsementRecord[] {
    return this.db.transaction(() => {
      const hit = this.find(orgOrKid).filter((r) => r.status === 'active');
      const stmt = this.db.prepare("UPDATE endorsements SET status = 'revoked', reason = ?, revoked_at = ? WHERE id = ?");
      for (const r of hit) stmt.run(reason, now, r.id);
      this.event(now, 'revoke', { target: orgOrKid, reason, ids: hit.map((r) => r.id) });
      return hit.map((r) => ({ ...r, status: 'revoked' as const, reason, revokedAt: now }));
    })();
  }

  setResponseFile(id: string, file: string): void {
    this.db.prepare('UPDATE endorsements SET response_file = ? WHERE id = ?').run(file, id);
  }
}
