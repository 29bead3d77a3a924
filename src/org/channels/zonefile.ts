import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { EmblemError } from '../../core/errors.js';
import { isAtOrBelow, toFqdn } from '../../dns/domain-name.js';
import { parseZoneFile, renderZoneFile, type ZoneFile } from '../../dns/zone-file.js';
import { RRType } from '../../dns/rr-type.js';
import { writeFileAtomic } from '../../store/atomic-write.js';
import type { DnsRecord, PublishingChannel } from './channel.js';
import { recordKey } from './channel.js';

/** Runs the reload command (sh -c) with a bound on time; a non-zero exit is a channel failure naming the command. */
export function runReload(command: string, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d) => (err = (err + d).slice(-2000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => reject(new EmblemError('CHANNEL_RELOAD_FAILED', `reload command ${JSON.stringify(command)}: ${e.message}`)));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new EmblemError('CHANNEL_RELOAD_FAILED', `reload command ${JSON.stringify(command)} failed (${signal ?? `exit ${code}`}): ${err.trim()}`));
    });
  });
}

function u32(buf: Buffer, off: number, v: number): void {
  buf.writeUInt32BE(v >>> 0, off);
}

/**
 * A zone file the organisation's server loads (Knot, NSD, BIND, `emblem dns serve`): changes are made to the
 * parsed zone, the SOA serial is increased, the file is replaced atomically, then the reload command runs.
 * Records that are not emblem records are kept as they are.
 */
export class ZoneFileChannel implements PublishingChannel {
  constructor(
    readonly id: string,
    private readonly path: string,
    readonly zone: string,
    private readonly reloadCommand: string | undefined,
    private readonly servers: Array<{ host: string; port: number }>,
    private readonly ihleType: number,
  ) {}

  private async loadText(): Promise<{ text: string; zone: ZoneFile }> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      throw new EmblemError('CHANNEL_UNAVAILABLE', `${this.id}: cannot read ${this.path}: ${(err as NodeJS.ErrnoException).code ?? ''}`);
    }
    return { text, zone: parseZoneFile(text, { origin: this.zone, ihleType: this.ihleType }) };
  }

  private async load(): Promise<ZoneFile> {
    return (await this.loadText()).zone;
  }

  async read(names: string[]): Promise<DnsRecord[]> {
    const wanted = new Set(names);
    const zone = await this.load();
    return zone.records.filter((r) => wanted.has(r.owner) && (r.type === RRType.TXT || r.type === this.ihleType)).map((r) => ({ name: r.owner, type: r.type, ttl: r.ttl, rdata: r.rdata }));
  }

  async apply(change: { add: DnsRecord[]; remove: DnsRecord[] }): Promise<void> {
    for (const r of [...change.add, ...change.remove]) {
      if (!isAtOrBelow(r.name, this.zone)) throw new EmblemError('USAGE', `${toFqdn(r.name)} is outside zone ${toFqdn(this.zone)} of ${this.id}`);
    }
    const { text: previous, zone } = await this.loadText();
    const gone = new Set(change.remove.map(recordKey));
    const records = zone.records.filter((r) => !gone.has(recordKey({ name: r.owner, type: r.type, ttl: r.ttl, rdata: r.rdata })));
    const present = new Set(records.map((r) => recordKey({ name: r.owner, type: r.type, ttl: r.ttl, rdata: r.rdata })));
    for (const r of change.add) if (!present.has(recordKey(r))) records.push({ owner: r.name, type: r.type, ttl: r.ttl, rdata: Buffer.from(r.rdata) });
    const soa = records.find((r) => r.type === RRType.SOA && r.owner === zone.origin);
    if (soa) {
      // Serial is the 5th-from-last 32-bit field of the SOA RDATA: +1 (mod 2^32, RFC 1982) so secondaries and reloads see a change.
      const rdata = Buffer.from(soa.rdata);
      const off = rdata.length - 20;
      u32(rdata, off, (rdata.readUInt32BE(off) + 1) >>> 0);
      soa.rdata = rdata;
    }
    await writeFileAtomic(this.path, renderZoneFile({ origin: zone.origin, records }, { ihleType: this.ihleType }));
    if (!this.reloadCommand) return;
    try {
      await runReload(this.reloadCommand);
    } catch (err) {
      // The server did not take the new file: put the previous one back, so the file and what is served agree
      // and the next reload (by anyone) does not publish a change this run reported as failed.
      await writeFileAtomic(this.path, previous);
      throw new EmblemError('CHANNEL_RELOAD_FAILED', `${this.id}: ${(err as Error).message}; ${this.path} restored to its previous content`);
    }
  }

  authoritativeServers(): Array<{ host: string; port: number }> {
    return this.servers;
  }
}
