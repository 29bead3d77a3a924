import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EmblemError } from '../core/errors.js';
import { parseOrganizationIdentifier } from '../core/identifiers/organization.js';
import { parseCwtToken } from '../core/tokens/cwt.js';
import { parseJwsToken } from '../core/tokens/jws.js';
import { parsePublicJwk, verifySignature } from '../core/tokens/keys.js';
import { loadConfig, saveConfig } from '../org/config.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import { parseResponse } from './response.js';

/**
 * The organisation's side: checks that the response endorses this folder's root key for this organisation and
 * that the token verifies with the authority key it carries, stores the token and that key (endorsements/), and
 * lists the file in config.endorsements, replacing an earlier one from the same authority: the next org apply
 * publishes it with every set.
 */
export async function importEndorsement(dir: string, responsePath: string, now: number): Promise<{ file: string; authority: string; kid: string; expires: string; replaced: string[]; eras: string[] }> {
  const r = parseResponse(await readFile(responsePath, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new EmblemError('USAGE', `cannot read ${responsePath}: ${err.code ?? err.message}`);
  }));
  const config = await loadConfig(dir);
  if (r.organization !== config.organization) throw new EmblemError('RESPONSE_MISMATCH', `the response endorses ${r.organization}, this folder is ${config.organization}`);
  const rootPub = config.keys.root.public;
  if (!rootPub) throw new EmblemError('CONFIG_INVALID', 'config.keys.root.public: needed to check which key the endorsement names');
  const { d: _d, ...pub } = JSON.parse(await readFile(join(dir, rootPub), 'utf8')) as Record<string, unknown>;
  const root = parsePublicJwk(pub);
  const token = parseJwsToken(r.endorsements.jws);
  const authorityKey = parsePublicJwk(r.authorityKey);
  if (token.kind !== 'endorsement') throw new EmblemError('RESPONSE_MISMATCH', 'the response token is not an endorsement');
  if (token.claims.key !== root.jwsKid) throw new EmblemError('RESPONSE_MISMATCH', `the endorsement names key ${token.claims.key}, this folder's root key is ${root.jwsKid}`);
  if (token.claims.sub !== config.organization || token.claims.iss !== r.authority) throw new EmblemError('RESPONSE_MISMATCH', `the endorsement is by ${token.claims.iss} of ${token.claims.sub}`);
  if (token.headerKid !== authorityKey.jwsKid || !(await verifySignature(authorityKey, token.signingInput, token.signature))) throw new EmblemError('SIGNATURE_INVALID', 'the endorsement does not verify with the authority key in the response');
  if (token.claims.exp <= now) throw new EmblemError('TOKEN_EXPIRED', `the endorsement expired ${new Date(token.claims.exp * 1000).toISOString()}`);
  let cwtHex: string | null = null;
  if (r.endorsements.cwt) {
    // The CWT-era endorsement: same checks against the COSE kids (RFC 9679 thumbprints).
    const cwt = parseCwtToken(new Uint8Array(Buffer.from(r.endorsements.cwt, 'hex')));
    if (cwt.kind !== 'endorsement') throw new EmblemError('RESPONSE_MISMATCH', 'the response CWT is not an endorsement');
    if (cwt.claims.key !== root.coseKidText) throw new EmblemError('RESPONSE_MISMATCH', `the CWT endorsement names key ${cwt.claims.key}, this folder's root key is ${root.coseKidText}`);
    if (cwt.claims.sub !== config.organization || cwt.claims.iss !== r.authority) throw new EmblemError('RESPONSE_MISMATCH', `the CWT endorsement is by ${cwt.claims.iss} of ${cwt.claims.sub}`);
    if (cwt.headerKid !== authorityKey.coseKidText || !(await verifySignature(authorityKey, cwt.signingInput, cwt.signature))) throw new EmblemError('SIGNATURE_INVALID', 'the CWT endorsement does not verify with the authority key in the response');
    if (cwt.claims.exp <= now) throw new EmblemError('TOKEN_EXPIRED', `the CWT endorsement expired ${new Date(cwt.claims.exp * 1000).toISOString()}`);
    cwtHex = r.endorsements.cwt;
  }
  const host = parseOrganizationIdentifier(r.authority).host;
  await mkdir(join(dir, 'endorsements'), { recursive: true });
  const file = `endorsements/${host}-${r.id}.adem`;
  await writeFileAtomic(join(dir, file), `${r.endorsements.jws}\n${cwtHex ? `${cwtHex}\n` : ''}${JSON.stringify(r.authorityKey)}\n`);
  const prefix = `endorsements/${host}-`;
  const replaced = (config.endorsements ?? []).filter((f) => f.startsWith(prefix));
  config.endorsements = [...(config.endorsements ?? []).filter((f) => !f.startsWith(prefix)), file];
  await saveConfig(dir, config);
  return { file, authority: r.authority, kid: root.jwsKid, expires: r.expires, replaced, eras: cwtHex ? ['jws', 'cwt'] : ['jws'] };
}
