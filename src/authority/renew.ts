import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { EmblemError } from '../core/errors.js';
import { parseOrganizationIdentifier } from '../core/identifiers/organization.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import { buildBundle } from './bundle.js';
import { issue, signEndorsement } from './grant.js';
import type { EndorsementResponse } from './response.js';
import type { EndorsementRecord, Registry } from './registry.js';
import { parseRequest } from './request.js';
import { parseResponse } from './response.js';
import type { AuthorityRuntime } from './runtime.js';

export interface Renewed {
  previous: string;
  id: string;
  organization: string;
  kid: string;
  expires: string;
  out: string;
}

/**
 * Re-signs every active endorsement expiring within `window` seconds with the same constraints and lifetime.
 * Revoked records are never renewed. Each renewal is written (issued/ and outDir) and then recorded, replacing
 * its predecessor (superseded) in the same transaction, so an interrupted run resumes where it stopped.
 */
export async function renewExpiring(rt: AuthorityRuntime, registry: Registry, o: { window: number; outDir: string }): Promise<Renewed[]> {
  return (await renewExpiringWithBundle(rt, registry, o)).renewed;
}

/**
 * As renewExpiring, and then writes every new response of this run into one bundle file
 * (outDir/bundle-<time>.json, atomic; none when nothing was renewed). The bundle is a convenience copy written
 * last: the registry and the per-organisation files are the record.
 */
export async function renewExpiringWithBundle(rt: AuthorityRuntime, registry: Registry, o: { window: number; outDir: string }): Promise<{ renewed: Renewed[]; bundle: string | null }> {
  const due = registry.list({ expiringBefore: rt.now + o.window });
  await mkdir(o.outDir, { recursive: true });
  const renewed: Renewed[] = [];
  const responses: EndorsementResponse[] = [];
  for (const rec of due) {
    const { done, response } = await renewOne(rt, registry, rec, o.outDir);
    renewed.push(done);
    responses.push(response);
  }
  if (renewed.length === 0) return { renewed, bundle: null };
  const stamp = new Date(rt.now * 1000).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const bundle = join(o.outDir, `bundle-${stamp}-${renewed[0]!.id.slice(-6)}.json`);
  await writeFileAtomic(bundle, `${JSON.stringify(buildBundle(rt.config.authority, rt.now, responses), null, 2)}\n`);
  registry.event(rt.now, 'renew-bundle', { file: bundle, count: renewed.length });
  return { renewed, bundle };
}

async function renewOne(rt: AuthorityRuntime, registry: Registry, rec: EndorsementRecord, outDir: string): Promise<{ done: Renewed; response: EndorsementResponse }> {
  if (!rec.requestFile) throw new EmblemError('REGISTRY_INCOMPLETE', `${rec.id} (${rec.organization}) has no request on file; grant it again from a new request`);
  const request = parseRequest(await readFile(join(rt.dir, rec.requestFile), 'utf8'));
  // The same eras as the renewed endorsement: a CWT one was signed (and its limits accepted) when the grant had one.
  // (A previous copy that cannot be read as a response: JWS only, never a CWT nobody accepted.)
  const previous = await readFile(join(rt.dir, rec.issuedFile), 'utf8').then(parseResponse).catch(() => null);
  const eras = previous?.endorsements.cwt ? ['jws', 'cwt'] : ['jws'];
  const r = await signEndorsement(rt, { organization: rec.organization, rootKey: request.rootKey, constraints: rec.constraints, lifetime: rec.expires - rec.issued, now: rt.now, renewedFrom: rec.id, eras, cwtWithoutAssetConstraints: true });
  const file = join(outDir, `${parseOrganizationIdentifier(rec.organization).host}-${r.id}.json`);
  const done = await issue(rt, registry, r, { out: file, requestText: null, requestFile: rec.requestFile, nonce: null });
  return { done: { previous: rec.id, id: done.id, organization: rec.organization, kid: rec.kid, expires: r.expires, out: file }, response: r };
}
