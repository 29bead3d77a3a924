/**
 * A zone `hospital.example` with prepared hosts for the extension tests, built from the demo's building blocks
 * (src/demo/main.ts: an authority, an organisation root key, an emblem key; ES512; JWS era as deployed):
 *   clinic   the demo's chain (emblem <- root key <- authority), so ENDORSED-TRUSTED with the authority pinned
 *   signed   an emblem signed by a key nobody endorses: SIGNED-UNTRUSTED
 *   invalid  the demo's chain with the emblem's signature broken: INVALID
 *   plain    an A record and no emblem records: no emblem
 * Tokens are valid around NOW (test/helpers/tokens.ts), never the wall clock. With `ctDir`, the root keys are
 * committed as the demo does (src/ct/local-ct-commitments.ts: local CA, local CT log on loopback, an RFC 6962 and
 * a static-ct pointer per endorsement); without it the pointers are syntactically valid and never fetched.
 */
import { base64urlDecode, base64urlEncode } from '../../src/core/encoding.js';
import { generateSigningKey, signToken, type SigningKey } from '../../src/core/tokens/sign.js';
import type { LogPointer } from '../../src/core/verify/commitment.js';
import { prepareLocalCtCommitments } from '../../src/ct/local-ct-commitments.js';
import type { Material } from '../../src/core/material/material.js';
import { buildEmblemZone } from '../../src/dns/emblem-zone.js';
import { renderZoneFile } from '../../src/dns/zone-file.js';
import { DAY, NOW_S } from '../helpers/tokens.js';

export const ORG = 'https://hospital.example';
export const AUTHORITY = 'https://authority.example';
/** Syntactically valid CT log pointers (fixtures without a CT log: never fetched). */
const LOG: LogPointer[] = [{ ver: 'v1', id: new Uint8Array(32).fill(7), hash: new Uint8Array(32).fill(9) }];

export interface ExtensionFixture {
  zoneText: string;
  authority: SigningKey;
  /** The authority's public JWK, as a user would paste it into the options. */
  authorityJwk: Record<string, unknown>;
  kids: { emblem: string; orgRoot: string; authority: string };
  /** The local CT log holding the commitments (with `ctDir`): its v3 log list's URL and text. */
  ct?: { logListUrl: string; logListText: string; logUrl: string; close(): Promise<void> };
}

const jwk = (k: SigningKey): Material => ({ kind: 'jwk', jwk: k.publicKey.jwk });

/** Flips one bit in the signature part of a JWS compact token. */
function breakSignature(jws: string): string {
  const [h, p, s] = jws.split('.');
  const sig = base64urlDecode(s!);
  sig[0] = sig[0]! ^ 1;
  return `${h}.${p}.${base64urlEncode(sig)}`;
}

export async function buildFixture(options: { ctDir?: string } = {}): Promise<ExtensionFixture> {
  const [authority, orgRoot, emblemKey, loneKey] = await Promise.all(['ES512', 'ES512', 'ES512', 'ES256'].map(async (alg) => (await generateSigningKey(alg as 'ES512')).key)) as SigningKey[];
  const committed = options.ctDir
    ? await prepareLocalCtCommitments(options.ctDir, [
        { name: 'orgRoot', host: 'hospital.example', key: orgRoot!.publicKey },
        { name: 'authority', host: 'authority.example', key: authority!.publicKey },
      ])
    : null;
  const logFor = (name: string) => committed?.logFor(name, 'jws') ?? LOG;
  const times = { iat: NOW_S - DAY, nbf: NOW_S - DAY, exp: NOW_S + 30 * DAY };
  const chainFor = async (asset: string) => {
    const emblem = await signToken('jws', 'emblem', { ...times, iss: ORG, assets: [asset], purposes: ['protective'] }, emblemKey!);
    const root = await signToken('jws', 'endorsement', { ...times, iss: ORG, sub: ORG, endorse: emblemKey!.publicKey, end: false, purposes: ['protective'], log: logFor('orgRoot') }, orgRoot!);
    const external = await signToken('jws', 'endorsement', { ...times, exp: NOW_S + 365 * DAY, iss: AUTHORITY, sub: ORG, endorse: orgRoot!.publicKey, end: true, log: logFor('authority') }, authority!);
    return { emblem: emblem.text, root: root.text, external: external.text };
  };
  const clinic = await chainFor('clinic.hospital.example');
  const broken = await chainFor('invalid.hospital.example');
  // No issuer: an emblem naming an organisation needs that organisation's root endorsement (ROOT_LOG_MISSING).
  const lone = await signToken('jws', 'emblem', { ...times, assets: ['signed.hospital.example'] }, loneKey!);
  const chainItems = (c: { emblem: string; root: string; external: string }, emblemText = c.emblem) => [
    { kind: 'jws' as const, text: emblemText }, { kind: 'jws' as const, text: c.root }, { kind: 'jws' as const, text: c.external },
    jwk(emblemKey!), jwk(orgRoot!), jwk(authority!),
  ].map((material) => ({ material: material as Material, identifier: null }));
  const { zone } = buildEmblemZone({
    origin: 'hospital.example',
    serial: 1,
    era: 'jws',
    addresses: ['clinic', 'signed', 'invalid', 'plain'].map((h) => ({ owner: `${h}.hospital.example`, ip: '127.0.0.1' })),
    owners: [
      { owner: 'clinic.hospital.example', items: chainItems(clinic) },
      { owner: 'signed.hospital.example', items: [{ material: { kind: 'jws', text: lone.text }, identifier: null }, { material: jwk(loneKey!), identifier: null }] },
      { owner: 'invalid.hospital.example', items: chainItems(broken, breakSignature(broken.emblem)) },
    ],
  });
  const ct = committed
    ? { logListUrl: committed.logListUrl, logListText: await (await fetch(committed.logListUrl)).text(), logUrl: new URL('/', committed.logListUrl).toString(), close: () => committed.close() }
    : undefined;
  return {
    ...(ct ? { ct } : {}),
    zoneText: renderZoneFile(zone),
    authority: authority!,
    authorityJwk: { ...authority!.publicKey.jwk },
    kids: { emblem: emblemKey!.publicKey.jwsKid, orgRoot: orgRoot!.publicKey.jwsKid, authority: authority!.publicKey.jwsKid },
  };
}
