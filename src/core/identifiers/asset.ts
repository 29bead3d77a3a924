import ipaddr from 'ipaddr.js';
import { EmblemError } from '../errors.js';
import { Limits } from '../limits.js';
import { parseDomainLabels } from './domain.js';

/**
 * An asset identifier (AI, called bearer identifier in older drafts), CORE-01 §3:
 *   domain-name (leftmost label may be "*"; "*" alone is legal) | "[" IPv6 [ "/" prefix ] "]"
 * Also accepted, as deployed (cyberstar.online) though the draft allows IPv4 only as mapped IPv6: "[a.b.c.d]"
 * and "[a.b.c.d/len]". IPv4 is stored as IPv4-mapped IPv6 so that "[1.2.3.4]" and "[::ffff:1.2.3.4]" compare equal.
 */
export type AssetIdentifier = DomainAsset | AddressAsset;

export interface DomainAsset {
  kind: 'domain';
  text: string;
  /** Lower-case labels without the wildcard label. Empty for "*" alone. */
  labels: string[];
  wildcard: boolean;
}

export interface AddressAsset {
  kind: 'address';
  text: string;
  /** 16 bytes, IPv4 mapped into ::ffff:0:0/96. */
  bytes: Uint8Array;
  prefixLength: number;
}

export function parseAssetIdentifier(text: unknown): AssetIdentifier {
  if (typeof text !== 'string') throw new EmblemError('IDENTIFIER_INVALID', 'asset identifier must be a string');
  if (text.length === 0 || text.length > Limits.maxIdentifierLength) {
    throw new EmblemError('IDENTIFIER_INVALID', 'asset identifier length out of range');
  }
  if (text.startsWith('[')) return parseAddress(text);
  if (text === '*') return { kind: 'domain', text, labels: [], wildcard: true };
  if (text.startsWith('*.')) {
    return { kind: 'domain', text, labels: parseDomainLabels(text.slice(2)), wildcard: true };
  }
  if (text.includes('*')) {
    throw new EmblemError('IDENTIFIER_INVALID', `"*" is allowed only as the leftmost label: ${JSON.stringify(text)}`);
  }
  return { kind: 'domain', text, labels: parseDomainLabels(text), wildcard: false };
}

const DOTTED_QUAD = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;

/** Strict dotted-quad IPv4 (no leading zeros, no shorthand), parsed here: it is on every IPv4 emblem's hot path. */
function parseIpv4Mapped(address: string): Uint8Array | null {
  const m = DOTTED_QUAD.exec(address);
  if (!m) return null;
  const bytes = new Uint8Array(16);
  bytes[10] = 0xff;
  bytes[11] = 0xff;
  for (let i = 0; i < 4; i++) {
    const octet = Number(m[i + 1]);
    if (octet > 255) return null;
    bytes[12 + i] = octet;
  }
  return bytes;
}

/** The special ranges that cannot name an asset; IPv4 (bracketed or mapped) is classified as IPv4. */
function unusableRange(bytes: Uint8Array): string | null {
  const mapped = bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (mapped) {
    const first = bytes[12]!;
    if (first === 0) return 'unspecified';
    if (first === 127) return 'loopback';
    if (first >= 224 && first <= 239) return 'multicast';
    return null;
  }
  const range = (ipaddr.fromByteArray(Array.from(bytes)) as ipaddr.IPv6).range();
  return range === 'unspecified' || range === 'loopback' || range === 'multicast' ? range : null;
}

function parseAddress(text: string): AddressAsset {
  const m = /^\[([0-9A-Fa-f:.]+)(?:\/(\d{1,3}))?\]$/.exec(text);
  if (!m) throw new EmblemError('IDENTIFIER_INVALID', `invalid address identifier ${JSON.stringify(text.slice(0, 80))}`);
  const address = m[1]!;
  let bytes: Uint8Array;
  let maxPrefix: number;
  let prefixOffset: number;
  const ipv4 = parseIpv4Mapped(address);
  if (ipv4) {
    bytes = ipv4;
    maxPrefix = 32;
    prefixOffset = 96;
  } else if (address.includes(':') && ipaddr.IPv6.isValid(address)) {
    bytes = Uint8Array.from(ipaddr.IPv6.parse(address).toByteArray());
    maxPrefix = 128;
    prefixOffset = 0;
  } else {
    throw new EmblemError('IDENTIFIER_INVALID', `invalid IP address in ${JSON.stringify(text.slice(0, 80))}`);
  }
  const prefix = m[2] === undefined ? maxPrefix : Number(m[2]);
  if (prefix > maxPrefix) throw new EmblemError('IDENTIFIER_INVALID', `prefix length out of range in ${text}`);
  // Marking "no address", loopback or a multicast group cannot name an asset on the network.
  const range = unusableRange(bytes);
  if (range) {
    throw new EmblemError('IDENTIFIER_INVALID', `${range} address cannot be an asset: ${text}`);
  }
  return { kind: 'address', text, bytes, prefixLength: prefixOffset + prefix };
}

function prefixContains(general: AddressAsset, specific: AddressAsset): boolean {
  if (general.prefixLength > specific.prefixLength) return false;
  const full = general.prefixLength >> 3;
  for (let i = 0; i < full; i++) if (general.bytes[i] !== specific.bytes[i]) return false;
  const rest = general.prefixLength & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (general.bytes[full]! & mask) === (specific.bytes[full]! & mask);
}

/** True when `suffix` labels end `labels` (x.example.org ends with example.org). */
function endsWithLabels(labels: string[], suffix: string[]): boolean {
  if (suffix.length > labels.length) return false;
  const offset = labels.length - suffix.length;
  for (let i = 0; i < suffix.length; i++) if (labels[offset + i] !== suffix[i]) return false;
  return true;
}

/**
 * CORE-01 §3 "more general": a non-wildcard domain only equals itself; "*.x" covers x, every subdomain of x and
 * every wildcard below x; an address prefix covers every address or prefix inside it; domains and addresses are
 * incomparable. The order is reflexive and transitive.
 */
export function isMoreGeneral(general: AssetIdentifier, specific: AssetIdentifier): boolean {
  if (general.kind === 'address' || specific.kind === 'address') {
    return general.kind === 'address' && specific.kind === 'address' && prefixContains(general, specific);
  }
  if (!general.wildcard) {
    return !specific.wildcard && general.labels.join('.') === specific.labels.join('.');
  }
  return endsWithLabels(specific.labels, general.labels);
}

/**
 * Discovery check (DNS-02 and good practice for TXT): is the queried name one of the emblem's assets?
 * Case-insensitive, trailing dot ignored, wildcards included. Unparseable assets never match.
 */
export function assetsCoverName(assets: readonly string[], fqdn: string): boolean {
  let target: AssetIdentifier;
  try {
    target = { kind: 'domain', text: fqdn, labels: parseDomainLabels(fqdn), wildcard: false };
  } catch {
    return false;
  }
  for (const text of assets) {
    try {
      if (isMoreGeneral(parseAssetIdentifier(text), target)) return true;
    } catch {
      // an invalid asset entry covers nothing
    }
  }
  return false;
}
