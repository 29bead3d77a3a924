import { parsePublicJwk } from '../../src/core/tokens/keys.js';
import { joinTxtRdata } from '../../src/dns/character-strings.js';
import { queryRecords } from '../../src/dns/update/query.js';

/** The key ids in what a server publishes at one name: decoded from the records themselves, not from our state. */
export interface PublishedKids {
  /** `kid` in the protected header of each JWS emblem (cty adem-emb): the emblem keys that signed. */
  emblem: string[];
  /** `key` claim of each JWS endorsement (cty adem-end): the keys the root key endorses. */
  endorsed: string[];
  /** Thumbprint kids of the `adem-key` JWKs (root key included). */
  keys: string[];
}

const uniq = (xs: string[]) => [...new Set(xs)].sort();

export async function publishedKids(host: string, port: number, name: string): Promise<PublishedKids> {
  const emblem: string[] = [];
  const endorsed: string[] = [];
  const keys: string[] = [];
  for (const r of await queryRecords(host, port, name, 16, 2000)) {
    const text = joinTxtRdata(r.rdata).toString('utf8');
    const token = /^adem-token(?:-[^=]*)?=([^.]+)\.([^.]+)\./.exec(text);
    if (token) {
      const header = JSON.parse(Buffer.from(token[1]!, 'base64url').toString('utf8')) as { cty: string; kid: string };
      const payload = JSON.parse(Buffer.from(token[2]!, 'base64url').toString('utf8')) as { key?: string };
      if (header.cty === 'adem-emb') emblem.push(header.kid);
      else if (header.cty === 'adem-end' && payload.key) endorsed.push(payload.key);
      continue;
    }
    const key = /^adem-key(?:-[^=]*)?=(.*)$/s.exec(text);
    if (key) keys.push(parsePublicJwk(JSON.parse(key[1]!)).jwsKid);
  }
  return { emblem: uniq(emblem), endorsed: uniq(endorsed), keys: uniq(keys) };
}
