/**
 * In-memory stand-ins for the store (obs-store) and the evidence log (evidence), used by this folder's tests only,
 * so the service can be tested before and independently of the real backends.
 */
import type { IncidentRecord, NewIncident, ObservationIndexRecord, ObservatoryStore, TargetStateRecord } from '../../src/observatory/store.js';
import type { AlertEvent, AlertSink, EvidenceSink } from '../../src/observatory/service.js';

export class MemoryStore implements ObservatoryStore {
  states = new Map<string, TargetStateRecord>();
  observationRows: ObservationIndexRecord[] = [];
  incidentRows: IncidentRecord[] = [];
  cursors = new Map<string, string>();
  async migrate(): Promise<void> {}
  async getTargetStates(targets: readonly string[]): Promise<Map<string, TargetStateRecord>> {
    const m = new Map<string, TargetStateRecord>();
    for (const t of targets) {
      const s = this.states.get(t);
      if (s) m.set(t, s);
    }
    return m;
  }
  async putTargetStates(records: readonly TargetStateRecord[]): Promise<void> {
    for (const r of records) this.states.set(r.target, r);
  }
  async addObservations(records: readonly ObservationIndexRecord[]): Promise<void> {
    this.observationRows.push(...records);
  }
  async discardObservationsFromLeaf(size: number): Promise<number> {
    const before = this.observationRows.length;
    this.observationRows = this.observationRows.filter((o) => o.leafIndex === null || o.leafIndex < size);
    return before - this.observationRows.length;
  }
  async discardIncidentObservationsFromLeaf(size: number): Promise<Array<{ id: number; dropped: number[] }>> {
    const out: Array<{ id: number; dropped: number[] }> = [];
    for (const i of this.incidentRows) {
      const dropped = i.observations.filter((l) => l >= size);
      if (dropped.length === 0) continue;
      i.observations = i.observations.filter((l) => l < size);
      i.detail += ` [repaired after a crash: ${dropped.join(', ')}]`;
      out.push({ id: i.id, dropped });
    }
    return out;
  }
  async observations(target: string, from: string, to: string, limit = 1000): Promise<ObservationIndexRecord[]> {
    return this.observationRows.filter((o) => o.target === target && o.time >= from && o.time <= to).slice(0, limit);
  }
  async openIncident(incident: NewIncident): Promise<IncidentRecord> {
    const r: IncidentRecord = { ...incident, id: this.incidentRows.length + 1, closed: null };
    this.incidentRows.push(r);
    return r;
  }
  async closeIncident(id: number, closed: string, observations: readonly number[] = []): Promise<void> {
    const r = this.incidentRows.find((i) => i.id === id)!;
    r.closed = closed;
    r.observations = [...r.observations, ...observations];
  }
  async incidents(filter: { open?: boolean; target?: string } = {}): Promise<IncidentRecord[]> {
    return this.incidentRows.filter((i) => (filter.open === undefined || (i.closed === null) === filter.open) && (filter.target === undefined || i.target === filter.target));
  }
  async getCursor(key: string): Promise<string | undefined> {
    return this.cursors.get(key);
  }
  async setCursor(key: string, value: string): Promise<void> {
    this.cursors.set(key, value);
  }
  async close(): Promise<void> {}
}

export class MemoryEvidence implements EvidenceSink {
  entries: Uint8Array[] = [];
  checkpoints = 0;
  /** The most entries held unpublished at once (what a real log keeps in memory until its next checkpoint). */
  maxUnpublished = 0;
  private published = 0;
  get size(): number {
    return this.entries.length;
  }
  async append(entry: Uint8Array): Promise<number> {
    this.entries.push(entry);
    this.maxUnpublished = Math.max(this.maxUnpublished, this.entries.length - this.published);
    return this.entries.length - 1;
  }
  async publishCheckpoint(): Promise<string> {
    this.checkpoints++;
    this.published = this.entries.length;
    return `fake\n${this.entries.length}\nroot\n`;
  }
  async close(): Promise<void> {}
  records(): Array<{ target: string; vantagePoint: string; status: string; answers: Array<{ wire: string }>; error?: { code: string } }> {
    return this.entries.map((e) => JSON.parse(new TextDecoder().decode(e)));
  }
}

export class MemoryAlerts implements AlertSink {
  sent: AlertEvent[] = [];
  send(event: AlertEvent): void {
    this.sent.push(event);
  }
  async close(): Promise<void> {}
}
