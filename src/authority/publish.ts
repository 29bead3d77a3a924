import { EmblemError } from '../core/errors.js';
import { signToken } from '../core/tokens/sign.js';
import { normalizeUserName } from '../dns/domain-name.js';
import { emblemRecords, type PublishableItem } from '../dns/emblem-records.js';
import { recordKey, type DnsRecord } from '../org/channels/channel.js';
import { openChannels } from '../org/channels/index.js';
import { folderPath } from '../org/sign.js';
import type { AuthorityRuntime } from './runtime.js';

export interface PublishedAuthority {
  name: string;
  channels: string[];
  added: number;
  removed: number;
  kid: string;
  coseKid: string;
  validUntil: string;
  records: Array<{ type: number; rdata: string }>;
}

const TXT = 16;

function isAdemTxt(r: DnsRecord): boolean {
  // TXT RDATA: length-prefixed character strings; ADEM values start "adem-".
  return r.type === TXT && Buffer.from(r.rdata.subarray(1, 6)).toString('latin1') === 'adem-';
}

/**
 * The authority's key records at its own host, in both eras: the public key (`adem-key=` TXT and a COSE_Key in
 * IHLE) and its binding, i.e. a self-endorsement of the root key (end=true) carrying the binding certificate's
 * `log` entries (JWS in TXT, CWT in IHLE), so a validator can fetch the key and check its CT commitment before
 * pinning it. Replaces the ADEM TXT and IHLE records already at that name, in one UPDATE per channel.
 */
export async function publishAuthority(rt: AuthorityRuntime): Promise<PublishedAuthority> {
  const channels = rt.config.channels ?? [];
  if (channels.length === 0) throw new EmblemError('CONFIG_INVALID', `${rt.dir}: no channels to the authority's zone: run emblem authority init with --publish rfc2136://HOST:PORT/ZONE --tsig-key FILE (config "channels", as for organisations)`);
  const log = await rt.bindingLog();
  if (!log) throw new EmblemError('BINDING_MISSING', `${rt.dir} has no binding certificate for the authority's root key: nothing to publish that validators could check (authority set-binding)`);
  const key = await rt.rootKey();
  const ttl = rt.config.ttl ?? 300;
  const ihleType = rt.config.ihleType ?? 65400;
  const exp = rt.now + rt.lifetime;
  const self = { iss: rt.config.authority, sub: rt.config.authority, iat: rt.now, nbf: rt.now, exp, endorse: key.publicKey, end: true, log };
  const jws = await signToken('jws', 'endorsement', self, key);
  const cwt = await signToken('cwt', 'endorsement', self, key);
  const items: PublishableItem[] = [
    { material: { kind: 'jwk', jwk: key.publicKey.jwk }, identifier: null },
    { material: { kind: 'jws', text: jws.text }, identifier: null },
    { material: { kind: 'cwt', bytes: cwt.bytes! }, identifier: null },
  ];
  const name = normalizeUserName(rt.host);
  const { records } = emblemRecords(items, name, { era: 'both', ttl, ihleType });
  const wanted: DnsRecord[] = records.map((r) => ({ name: r.owner, type: r.type, ttl: r.ttl, rdata: new Uint8Array(r.rdata) }));
  const opened = await openChannels(channels, { host: rt.host, ihleType, resolvePath: (p) => folderPath(rt.dir, p) });
  let added = 0;
  let removed = 0;
  for (const ch of opened) {
    const present = (await ch.read([name])).filter((r) => r.name === name && (r.type === ihleType || isAdemTxt(r)));
    const want = new Set(wanted.map(recordKey));
    const have = new Set(present.map(recordKey));
    const add = wanted.filter((r) => !have.has(recordKey(r)));
    const remove = present.filter((r) => !want.has(recordKey(r)));
    if (add.length || remove.length) await ch.apply({ add, remove });
    added += add.length;
    removed += remove.length;
  }
  return {
    name,
    channels: opened.map((c) => c.id),
    added,
    removed,
    kid: key.publicKey.jwsKid,
    coseKid: key.publicKey.coseKidText,
    validUntil: new Date(exp * 1000).toISOString(),
    records: wanted.map((r) => ({ type: r.type, rdata: Buffer.from(r.rdata).toString('hex') })),
  };
}
