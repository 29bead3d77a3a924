// The actions of `emblem dns` (loaded only when one runs, so other commands start fast; see dns.ts).
import { renameSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { EmblemError } from '../../core/errors.js';
import { AuthoritativeResponder } from '../../dns/authoritative-responder.js';
import { AuthoritativeServer, parseListenAddress } from '../../dns/authoritative-server.js';
import { indexZones, type AnyMode, type AuthoritativeData } from '../../dns/authoritative-data.js';
import { formatTxtRdata, joinTxtRdata } from '../../dns/character-strings.js';
import { normalizeUserName, toFqdn, type NameKey } from '../../dns/domain-name.js';
import { emblemRecords, assertIdentifier, type PublishableItem, type PublishEra } from '../../dns/emblem-records.js';
import { buildEmblemZone } from '../../dns/emblem-zone.js';
import { RateLimitedErrorLog } from '../../dns/error-log.js';
import { formatGenericRdata } from '../../dns/generic-rdata.js';
import { readPublishableFile } from '../../dns/material-files.js';
import { renderOctodnsYaml } from '../../dns/octodns-yaml.js';
import { parseIhleTypeCode, RRType } from '../../dns/rr-type.js';
import { parseZoneFile, renderZoneFile, type ZoneFile } from '../../dns/zone-file.js';
import { UsageError } from '../exit.js';

function ttlOf(text: string | undefined): number {
  if (text === undefined) return 3600;
  if (!/^\d{1,10}$/.test(text) || Number(text) > 0x7fffffff) throw new UsageError(`--ttl expects seconds, got ${JSON.stringify(text)}`);
  return Number(text);
}

function userName(text: string, flag: string): NameKey {
  try {
    return normalizeUserName(text);
  } catch (err) {
    throw new UsageError(`${flag}: ${(err as Error).message}`);
  }
}

async function readItems(files: string[], identifier: string | undefined): Promise<PublishableItem[]> {
  if (identifier !== undefined) assertIdentifier(identifier);
  const items: PublishableItem[] = [];
  for (const f of files) {
    for (const item of await readPublishableFile(f)) {
      items.push(identifier !== undefined && item.identifier === null ? { ...item, identifier } : item);
    }
  }
  return items;
}

function warnSkipped(skipped: PublishableItem[], era: PublishEra): void {
  if (skipped.length) {
    process.stderr.write(`emblem: ${skipped.length} item(s) of the other era left out (--era ${era})\n`);
  }
}

export interface RecordsFlags {
  json?: boolean;
  name?: string;
  id?: string;
  era: PublishEra;
  ttl?: string;
  ihleType: string;
  format: 'rr' | 'value';
}

export interface ZoneFlags {
  json?: boolean;
  origin: string;
  name?: string;
  add?: string[];
  address?: string[];
  ns?: string[];
  nsAddress?: string[];
  id?: string;
  era: PublishEra;
  ttl?: string;
  serial?: string;
  ihleType: string;
  format: 'zone' | 'octodns';
  out?: string;
}

export interface ServeFlags {
  zone: string[];
  listen?: string[];
  ihleType: string;
  ednsPayload: string;
  statsFile?: string;
  any: AnyMode;
  rrlResponsesPerSecond: string;
  rrlSlip: string;
  tcpMaxConnections: string;
  tcpMaxPerAddress: string;
  tcpIdleTimeout: string;
  doh?: string[];
  dohCert?: string;
  dohKey?: string;
  dohTimeout: string;
}

function intOf(text: string, flag: string, min: number, max: number): number {
  if (!/^\d{1,9}$/.test(text) || Number(text) < min || Number(text) > max) throw new UsageError(`${flag} must be an integer ${min}..${max}, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** Reads and indexes every zone file; throws (with the file name) on the first that fails. */
async function loadZones(files: string[], ihleType: number): Promise<{ data: AuthoritativeData; zones: ZoneFile[] }> {
  const zones: ZoneFile[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    try {
      zones.push(parseZoneFile(text, { ihleType }));
    } catch (err) {
      if (err instanceof EmblemError) throw new EmblemError(err.code, `${file}: ${err.message}`);
      throw err;
    }
  }
  return { data: indexZones(zones, ihleType), zones };
}

function splitAssignment(text: string, flag: string): [string, string] {
  const i = text.indexOf('=');
  if (i <= 0 || i === text.length - 1) throw new UsageError(`${flag} expects NAME=VALUE, got ${JSON.stringify(text)}`);
  return [text.slice(0, i), text.slice(i + 1)];
}

export async function dnsRecords(files: string[], opts: RecordsFlags): Promise<void> {
  const ihleType = parseIhleTypeCode(opts.ihleType);
  const owner = opts.name === undefined ? null : userName(opts.name, '--name');
  const items = await readItems(files, opts.id);
  const { records, skipped } = emblemRecords(items, owner ?? '', { era: opts.era, ttl: ttlOf(opts.ttl), ihleType });
  warnSkipped(skipped, opts.era);
  const out: string[] = [];
  if (opts.json) {
    const json = records.map((r) => ({
      name: owner === null ? null : toFqdn(owner),
      ttl: r.ttl,
      type: r.type === RRType.TXT ? 'TXT' : `TYPE${r.type}`,
      rdata: r.type === RRType.TXT ? formatTxtRdata(r.rdata) : formatGenericRdata(r.rdata),
    }));
    process.stdout.write(`${JSON.stringify(json)}\n`);
    if (records.length === 0) throw new UsageError('no records to print (no tokens or keys of the selected era)');
    return;
  }
  for (const r of records) {
    const isTxt = r.type === RRType.TXT;
    if (opts.format === 'value') {
      out.push(isTxt ? joinTxtRdata(r.rdata).toString('utf8') : r.rdata.toString('hex').toUpperCase());
      continue;
    }
    const rdata = isTxt ? `TXT ${formatTxtRdata(r.rdata)}` : `TYPE${r.type} ${formatGenericRdata(r.rdata)}`;
    out.push(owner === null ? rdata : `${toFqdn(owner)} ${r.ttl} IN ${rdata}`);
  }
  process.stdout.write(out.length ? `${out.join('\n')}\n` : '');
  if (records.length === 0) throw new UsageError('no records to print (no tokens or keys of the selected era)');
}

export async function dnsZone(files: string[], opts: ZoneFlags): Promise<void> {
  const ihleType = parseIhleTypeCode(opts.ihleType);
  const origin = userName(opts.origin, '--origin');
  const owners: Array<{ owner: NameKey; items: PublishableItem[] }> = [];
  if (files.length) owners.push({ owner: opts.name ? userName(opts.name, '--name') : origin, items: await readItems(files, opts.id) });
  else if (opts.name) throw new UsageError('--name given without FILES');
  for (const add of opts.add ?? []) {
    const [name, file] = splitAssignment(add, '--add');
    owners.push({ owner: userName(name, '--add'), items: await readItems([file], opts.id) });
  }
  if (owners.length === 0) throw new UsageError('nothing to publish: give FILES (with --name) or --add NAME=FILE');
  const addresses = (opts.address ?? []).map((a) => {
    const [name, ip] = splitAssignment(a, '--address');
    return { owner: userName(name, '--address'), ip };
  });
  if (opts.serial !== undefined && (!/^\d{1,10}$/.test(opts.serial) || Number(opts.serial) > 0xffffffff)) {
    throw new UsageError('--serial expects an unsigned 32-bit number');
  }
  const { zone, skipped } = buildEmblemZone({
    origin,
    owners,
    addresses,
    nameServers: (opts.ns ?? []).map((n) => userName(n, '--ns')),
    nameServerAddresses: opts.nsAddress,
    era: opts.era,
    ttl: ttlOf(opts.ttl),
    serial: opts.serial === undefined ? undefined : Number(opts.serial),
    ihleType,
  });
  warnSkipped(skipped, opts.era);
  // A name whose answer cannot fit in a DNS message even over TCP would be served as TC with no records:
  // refuse it here, as `dns serve` does at load (DNS_ANSWER_TOO_LARGE).
  indexZones([zone], ihleType);
  const text =
    opts.format === 'octodns'
      ? renderOctodnsYaml(zone, ihleType)
      : renderZoneFile(zone, { ihleType, header: [`ADEM emblem zone for ${toFqdn(origin)}, generated by emblem dns zone`, `IHLE records use type code ${ihleType} (RFC 3597 generic syntax)`] });
  const output = opts.json ? `${JSON.stringify({ origin: toFqdn(origin), format: opts.format, text })}\n` : text;
  if (opts.out) await writeFile(opts.out, output);
  else process.stdout.write(output);
}

export async function dnsServe(opts: ServeFlags): Promise<void> {
  const ihleType = parseIhleTypeCode(opts.ihleType);
  const payload = Number(opts.ednsPayload);
  if (!Number.isInteger(payload) || payload < 512 || payload > 4096) throw new UsageError('--edns-payload must be 512..4096');
  const options = {
    rrlResponsesPerSecond: intOf(opts.rrlResponsesPerSecond, '--rrl-responses-per-second', 0, 1_000_000),
    rrlSlip: intOf(opts.rrlSlip, '--rrl-slip', 0, 10),
    tcpMaxConnections: intOf(opts.tcpMaxConnections, '--tcp-max-connections', 1, 65_535),
    tcpMaxPerAddress: intOf(opts.tcpMaxPerAddress, '--tcp-max-per-address', 0, 65_535),
    tcpIdleTimeoutMs: intOf(opts.tcpIdleTimeout, '--tcp-idle-timeout', 1, 3_600) * 1000,
  };
  const dohListen = (opts.doh ?? []).map(parseListenAddress);
  if ((opts.dohCert === undefined) !== (opts.dohKey === undefined)) throw new UsageError('--doh-cert and --doh-key go together');
  if (opts.dohCert !== undefined && dohListen.length === 0) throw new UsageError('--doh-cert without --doh');
  const listen = (opts.listen?.length ? opts.listen : dohListen.length ? [] : ['127.0.0.1:53']).map(parseListenAddress);
  const { data, zones } = await loadZones(opts.zone, ihleType);
  const responder = new AuthoritativeResponder(data, { udpPayload: payload, anyMode: opts.any });
  const log = new RateLimitedErrorLog();
  const server = new AuthoritativeServer(responder, log, options);
  // SIGHUP: reload every zone; the new data replaces the old in one step only when all of it loaded.
  let reloading = false;
  let again = false;
  const reload = async () => {
    if (reloading) {
      again = true;
      return;
    }
    reloading = true;
    do {
      again = false;
      try {
        const next = await loadZones(opts.zone, ihleType);
        responder.replaceData(next.data);
        log.info('zones-reloaded', { zones: next.zones.map((z) => toFqdn(z.origin)) });
      } catch (err) {
        log.warn('zones-reload-failed', {
          code: (err as { code?: string }).code ?? 'INTERNAL',
          reason: err instanceof Error ? err.message : String(err),
          serving: responder.zones.map((z) => toFqdn(z.origin)),
        });
      }
    } while (again);
    reloading = false;
  };
  process.on('SIGHUP', () => void reload());
  const addresses = await server.start(listen);
  let doh: import('../../server/doh.js').DohServer | null = null;
  let dohUrls: string[] = [];
  if (dohListen.length) {
    const { DohServer } = await import('../../server/doh.js');
    const tls = opts.dohCert !== undefined ? { cert: await readFile(opts.dohCert), key: await readFile(opts.dohKey!) } : null;
    doh = new DohServer(responder, tls, intOf(opts.dohTimeout, '--doh-timeout', 1, 300) * 1000);
    dohUrls = await doh.start(dohListen);
  }
  // Temp file + rename: a reader polling the file (monitoring, tests) never sees it empty or half written.
  const writeStats = () => {
    if (!opts.statsFile) return;
    const temp = `${opts.statsFile}.${process.pid}.tmp`;
    writeFileSync(temp, `${JSON.stringify(doh ? { ...server.stats, doh: doh.stats } : server.stats)}\n`);
    renameSync(temp, opts.statsFile);
  };
  writeStats();
  process.on('SIGUSR1', () => {
    writeStats();
    log.info('stats', { ...server.stats });
  });
  const stop = () => {
    writeStats();
    void Promise.all([server.stop(), doh?.stop()]).then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.write(`${JSON.stringify({ event: 'listening', addresses, zones: zones.map((z) => toFqdn(z.origin)), udp: server.udpEngine, ...(doh ? { doh: dohUrls } : {}) })}\n`);
  // Keep running until a signal arrives.
  await new Promise<never>(() => undefined);
}
