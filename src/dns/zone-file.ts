import { EmblemError } from '../core/errors.js';
import { isAtOrBelow, parseName, toFqdn, toRelative, type NameKey } from './domain-name.js';
import { DnsLimits } from './limits.js';
import { formatRdata, isTtlToken, parseRdata, parseTtl } from './rdata.js';
import { DEFAULT_IHLE_TYPE, RRType, parseTypeName, typeName } from './rr-type.js';
import { tokenizeZone } from './zone-tokenizer.js';

/** One resource record of a zone, class IN, RDATA in wire form. */
export interface ZoneRecord {
  owner: NameKey;
  ttl: number;
  type: number;
  rdata: Buffer;
}

/** An authoritative zone: its origin (apex) and records, the SOA first. */
export interface ZoneFile {
  origin: NameKey;
  records: ZoneRecord[];
}

export interface ZoneParseOptions {
  /** Origin when the file has no $ORIGIN before its first relative name. */
  origin?: NameKey;
  ihleType?: number;
}

function zoneError(line: number, why: string): EmblemError {
  return new EmblemError('ZONE_SYNTAX', `zone file line ${line}: ${why}`);
}

/**
 * Parses an RFC 1035 master file restricted to what an emblem zone holds: $ORIGIN, $TTL, SOA, NS, A, AAAA,
 * TXT, CNAME and RFC 3597 generic records (IHLE as `TYPEnnn \# ...` or `IHLE \# ...`), class IN.
 * Refused on purpose: $INCLUDE (a zone must not make the server read other files), $GENERATE, other classes,
 * delegations below the apex (this server gives no referrals).
 */
export function parseZoneFile(text: string, options: ZoneParseOptions = {}): ZoneFile {
  if (text.length > DnsLimits.maxZoneFileBytes) throw new EmblemError('LIMIT_EXCEEDED', 'zone file too large');
  const ihleType = options.ihleType ?? DEFAULT_IHLE_TYPE;
  let origin: NameKey | null = options.origin ?? null;
  let defaultTtl: number | null = null;
  let lastOwner: NameKey | null = null;
  let lastTtl: number | null = null;
  const records: ZoneRecord[] = [];
  let apex: NameKey | null = null;

  for (const entry of tokenizeZone(text)) {
    const t = entry.tokens;
    const first = t[0]!;
    try {
      if (!entry.blankOwner && !first.quoted && first.text.startsWith('$')) {
        const directive = first.text.toUpperCase();
        if (directive === '$ORIGIN' && t.length === 2) origin = parseName(t[1]!.text, origin);
        else if (directive === '$TTL' && t.length === 2) defaultTtl = parseTtl(t[1]!.text);
        else throw zoneError(entry.line, `unsupported directive ${first.text}`);
        continue;
      }
      let i = 0;
      let owner: NameKey;
      if (entry.blankOwner) {
        if (lastOwner === null) throw zoneError(entry.line, 'record without owner name');
        owner = lastOwner;
      } else {
        owner = parseName(first.text, origin);
        i = 1;
      }
      let ttl: number | null = null;
      let sawClass = false;
      // [TTL] [class] in either order (RFC 1035 §5.1).
      for (let k = 0; k < 2 && i < t.length; k++) {
        const tok = t[i]!.text;
        if (!sawClass && /^(IN|CH|HS|CS|CLASS\d+)$/i.test(tok)) {
          if (tok.toUpperCase() !== 'IN' && tok.toUpperCase() !== 'CLASS1') throw zoneError(entry.line, `class ${tok} not supported (IN only)`);
          sawClass = true;
          i++;
        } else if (ttl === null && isTtlToken(tok)) {
          ttl = parseTtl(tok);
          i++;
        }
      }
      const typeText = t[i]?.text;
      if (typeText === undefined) throw zoneError(entry.line, 'missing record type');
      const type = parseTypeName(typeText, ihleType);
      if (type === null) throw zoneError(entry.line, `unsupported record type ${typeText}`);
      if (type === RRType.OPT || type === RRType.ANY || type === RRType.AXFR || type === RRType.IXFR) {
        throw zoneError(entry.line, `${typeText} cannot appear in a zone`);
      }
      if (origin === null && type === RRType.SOA) origin = owner;
      const rdata = parseRdata(type, t.slice(i + 1), origin ?? owner);
      if (rdata.length > 0xffff) {
        // RDLENGTH is 16 bits: such a record cannot be sent at all (the name would get no answer).
        throw new EmblemError('DNS_ANSWER_TOO_LARGE', `zone file line ${entry.line}: answer too large: RDATA of ${rdata.length} bytes, a record holds at most 65535`);
      }
      if (type === RRType.SOA) {
        if (apex !== null) throw zoneError(entry.line, 'second SOA record');
        apex = owner;
        if (ttl === null && defaultTtl === null) {
          // RFC 2308: without $TTL the SOA MINIMUM field is the default.
          defaultTtl = rdata.readUInt32BE(rdata.length - 4);
        }
      } else if (apex === null) {
        throw zoneError(entry.line, 'the first record must be the SOA');
      }
      if (!isAtOrBelow(owner, apex)) throw zoneError(entry.line, `${toFqdn(owner)} is outside the zone ${toFqdn(apex)}`);
      if (type === RRType.NS && owner !== apex) throw zoneError(entry.line, 'delegations (NS below the apex) are not supported');
      const effectiveTtl: number | null = ttl ?? defaultTtl ?? lastTtl;
      if (effectiveTtl === null) throw zoneError(entry.line, 'no TTL and no $TTL');
      records.push({ owner, ttl: effectiveTtl, type, rdata });
      if (records.length > DnsLimits.maxZoneRecords) throw new EmblemError('LIMIT_EXCEEDED', 'too many records in zone');
      lastOwner = owner;
      lastTtl = effectiveTtl;
    } catch (err) {
      if (err instanceof EmblemError && err.code !== 'ZONE_SYNTAX' && err.code !== 'LIMIT_EXCEEDED' && err.code !== 'DNS_ANSWER_TOO_LARGE') {
        throw zoneError(entry.line, err.message);
      }
      throw err;
    }
  }
  if (apex === null) throw new EmblemError('ZONE_SYNTAX', 'zone file has no SOA record');
  if (!records.some((r) => r.type === RRType.NS && r.owner === apex)) {
    throw new EmblemError('ZONE_SYNTAX', 'zone file has no NS record at the apex');
  }
  return { origin: apex, records };
}

/** Renders a zone as a master file every mainstream server loads (NSD, Knot, BIND): one record per line. */
export function renderZoneFile(zone: ZoneFile, options: { ihleType?: number; header?: string[] } = {}): string {
  const ihleType = options.ihleType ?? DEFAULT_IHLE_TYPE;
  const lines: string[] = [];
  for (const h of options.header ?? []) lines.push(`; ${h}`);
  lines.push(`$ORIGIN ${toFqdn(zone.origin)}`);
  const soa = zone.records.find((r) => r.type === RRType.SOA);
  lines.push(`$TTL ${soa?.ttl ?? 3600}`);
  for (const r of zone.records) {
    // Unknown types are written as TYPEnnn, never as the IHLE mnemonic: servers do not know it (RFC 3597 §5).
    const mnemonic = r.type === ihleType ? `TYPE${r.type}` : typeName(r.type, -1);
    lines.push(`${toRelative(r.owner, zone.origin)}\t${r.ttl}\tIN\t${mnemonic}\t${formatRdata(r.type, r.rdata)}`);
  }
  return lines.join('\n') + '\n';
}
