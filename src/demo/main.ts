#!/usr/bin/env node
/**
 * `npm start`: a self-contained local demo. An authority, an organisation (root key + emblem key) and an emblem for
 * a demo asset are created in a temporary folder; the chain is signed in both eras, written out, verified, and the
 * tokens and a readable report are printed. Nothing leaves this machine.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKey, signToken, type SigningKey } from '../core/tokens/sign.js';
import type { Era } from '../core/tokens/token.js';
import type { CommitmentChecker, LogPointer } from '../core/verify/commitment.js';
import { verifyMaterial } from '../core/verify/index.js';
import type { Material } from '../core/material/material.js';
import { writePrivateKeyFile } from '../store/key-file.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import { formatReport } from '../cli/report-text.js';
import { prepareLocalCtCommitments } from '../ct/local-ct-commitments.js';
import { installNodeSignatureVerifier } from '../crypto/node-signature-verifier.js';

installNodeSignatureVerifier();

const ASSET = 'clinic.hospital.example';
const ORG = 'https://hospital.example';
const AUTHORITY = 'https://authority.example';
const DAY = 86_400;

function heading(text: string): void {
  console.log(process.stdout.isTTY ? `\n\x1b[1m== ${text}\x1b[0m` : `\n== ${text}`);
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'emblem-demo-'));
  const keep = process.argv.includes('--keep');
  try {
    heading(`Keys (private keys written with mode 0600 to ${dir})`);
    const keys: Record<'authority' | 'orgRoot' | 'emblem', SigningKey> = {} as never;
    for (const name of ['authority', 'orgRoot', 'emblem'] as const) {
      const { privateJwk, key } = await generateSigningKey('ES512');
      await writePrivateKeyFile(join(dir, `${name}.jwk`), privateJwk);
      await writeFileAtomic(join(dir, `${name}.pub.jwk`), `${JSON.stringify(key.publicKey.jwk)}\n`);
      keys[name] = key;
      console.log(`${name.padEnd(10)} ES512  kid (JWS era) ${key.publicKey.jwsKid}  kid (CWT era) ${key.publicKey.coseKidText}`);
    }

    // A local CA issues each root key a binding certificate, logged in a local CT log on loopback, so the
    // organisational and endorsed levels below rest on commitments that were really checked.
    const commitments = await prepareLocalCtCommitments(dir, [
      { name: 'orgRoot', host: 'hospital.example', key: keys.orgRoot.publicKey },
      { name: 'authority', host: 'authority.example', key: keys.authority.publicKey },
    ]);
    try {
      for (const era of ['jws', 'cwt'] as const) {
        await demoEra(era, dir, keys, commitments.logFor, commitments.checker);
      }
      heading('What this shows');
      console.log(commitments.explanation);
      console.log('Both eras reach the same levels: the engine is one, only the wire format differs.');
      console.log(keep
        ? `The files are kept in ${dir}. Restart its CT log with\n  npx emblem ct serve --listen 127.0.0.1:0 --roots ${join(dir, 'ca.pem')} --state ${join(dir, 'ct-log')}\n` +
            `and verify with\n  npx emblem verify --log-list <the log_list.json URL it prints> --ca-bundle ${join(dir, 'ca.pem')} ${join(dir, 'jws-set.txt')}`
        : 'Run `npm start -- --keep` to keep the keys, certificates, CT log and token sets and verify them yourself with `npx emblem verify`.');
    } finally {
      await commitments.close();
    }
  } finally {
    if (!keep) await rm(dir, { recursive: true, force: true });
  }
}

async function demoEra(
  era: Era,
  dir: string,
  keys: Record<'authority' | 'orgRoot' | 'emblem', SigningKey>,
  logFor: (name: string, era: Era) => LogPointer[],
  checker: CommitmentChecker,
): Promise<void> {
  const iat = Math.floor(Date.now() / 1000);
  const times = { iat, nbf: iat, exp: iat + 30 * DAY };
  const emblem = await signToken(era, 'emblem', { ...times, iss: ORG, assets: [ASSET], purposes: ['protective'] }, keys.emblem);
  const root = await signToken(era, 'endorsement', {
    ...times, iss: ORG, sub: ORG, endorse: keys.emblem.publicKey, end: false, purposes: ['protective'], log: logFor('orgRoot', era),
  }, keys.orgRoot);
  const external = await signToken(era, 'endorsement', {
    ...times, exp: iat + 365 * DAY, iss: AUTHORITY, sub: ORG, endorse: keys.orgRoot.publicKey, end: true, log: logFor('authority', era),
  }, keys.authority);

  heading(`${era.toUpperCase()} era (${era === 'jws' ? 'CORE-01, as deployed today: JWS in DNS TXT' : 'CORE-02 drafts: CWT in the IHLE record'})`);
  const lines = [emblem, root, external].map((t) => t.text);
  const keyLines = [keys.emblem, keys.orgRoot, keys.authority].map((k) => JSON.stringify(k.publicKey.jwk));
  const labels = ['emblem (signed by the emblem key)', 'internal endorsement (organisation root key -> emblem key)', 'external endorsement (authority -> organisation root key)'];
  lines.forEach((t, i) => console.log(`${labels[i]}:\n  ${t.length > 160 ? `${t.slice(0, 160)}... (${t.length} chars)` : t}`));
  await writeFileAtomic(join(dir, `${era}-set.txt`), `${[...lines, ...keyLines].join('\n')}\n`);

  const material: Material[] = [
    ...lines.map((text): Material => (era === 'jws' ? { kind: 'jws', text } : { kind: 'cwt', bytes: Uint8Array.from(Buffer.from(text, 'hex')) })),
    ...[keys.emblem, keys.orgRoot, keys.authority].map((k): Material => ({ kind: 'jwk', jwk: k.publicKey.jwk })),
  ];
  const report = await verifyMaterial(material, { now: new Date(), commitments: checker });
  console.log('\nVerification report:');
  console.log(formatReport(report).trimEnd().replace(/^/gm, '  '));
  const trusted = await verifyMaterial(material, { now: new Date(), commitments: checker, trustedKeys: [keys.authority.publicKey] });
  console.log(`  With the authority's key trusted out of band: ${trusted.result.join(' + ')}`);
}

main().catch((err) => {
  console.error(`demo failed: ${(err as Error).message}`);
  process.exitCode = 1;
});
