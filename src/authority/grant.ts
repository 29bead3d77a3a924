import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { EmblemError } from '../core/errors.js';
import { Limits } from '../core/limits.js';
import type { PublicKey } from '../core/tokens/keys.js';
import { signToken } from '../core/tokens/sign.js';
import { writeFileAtomic, writeFileAtomicExclusive } from '../store/atomic-write.js';
import type { EndorsementRecord, Registry } from './registry.js';
import type { RequestedConstraints } from './request.js';
import { RESPONSE_TYPE, type EndorsementResponse } from './response.js';
import { cwtUnsupported } from './review.js';
import type { AuthorityRuntime } from './runtime.js';

export interface SignInput {
  organization: string;
  rootKey: PublicKey;
  constraints: RequestedConstraints;
  lifetime: number;
  now: number;
  renewedFrom?: string;
  /** Eras to sign in (default ["jws"]); the JWS endorsement is always signed, a CWT one too when "cwt" is listed. */
  eras?: readonly string[];
  /** Sign the CWT endorsement although it cannot carry the asset / lifetime constraints (grant --cwt-without-asset-constraints). */
  cwtWithoutAssetConstraints?: boolean;
}

/** Signs the endorsement of an organisation's root key (end=true, the authority's own `log`) and builds the response. */
export async function signEndorsement(rt: AuthorityRuntime, s: SignInput): Promise<EndorsementResponse> {
  if (s.lifetime <= 0 || s.lifetime > Limits.maxTokenLifetimeSeconds) throw new EmblemError('USAGE', `lifetime must be 1 s to ${Limits.maxTokenLifetimeSeconds / 86_400} days`);
  const log = await rt.bindingLog();
  if (!log) throw new EmblemError('BINDING_MISSING', `${rt.dir} has no binding certificate for the authority's root key: validators accept an endorsement only when its key is committed in CT (authority set-binding)`);
  const key = await rt.rootKey();
  const c = s.constraints;
  const withCwt = (s.eras ?? ['jws']).includes('cwt');
  const lost = cwtUnsupported(s.eras ?? ['jws'], c);
  if (lost && !s.cwtWithoutAssetConstraints) {
    throw new EmblemError('CWT_CONSTRAINT_UNSUPPORTED', `${lost}; or narrow nothing away and ask the organisation for a JWS-only request. Nothing signed`);
  }
  const token = await signToken('jws', 'endorsement', {
    iss: rt.config.authority,
    sub: s.organization,
    iat: s.now,
    nbf: s.now,
    exp: s.now + s.lifetime,
    endorse: s.rootKey,
    end: true,
    ...(c.assets ? { assets: c.assets } : {}),
    ...(c.purposes ? { purposes: c.purposes } : {}),
    ...(c.maxLifetime !== undefined ? { window: c.maxLifetime } : {}),
    log,
  }, key);
  // CORE-02: sub, key (the COSE kid bstr of the organisation's root key), end, prp; `log` in the protected header.
  const cwt = withCwt
    ? await signToken('cwt', 'endorsement', {
        iss: rt.config.authority,
        sub: s.organization,
        iat: s.now,
        nbf: s.now,
        exp: s.now + s.lifetime,
        endorse: s.rootKey,
        end: true,
        ...(c.purposes ? { purposes: c.purposes } : {}),
        log,
      }, key)
    : null;
  return {
    version: 1,
    type: RESPONSE_TYPE,
    id: `${new Date(s.now * 1000).toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(6).toString('hex')}`,
    authority: rt.config.authority,
    organization: s.organization,
    kid: s.rootKey.jwsKid,
    coseKid: s.rootKey.coseKidText,
    constraints: c,
    issued: new Date(s.now * 1000).toISOString(),
    expires: new Date((s.now + s.lifetime) * 1000).toISOString(),
    authorityKey: key.publicKey.jwk as JsonWebKey,
    endorsements: { jws: token.text, ...(cwt ? { cwt: Buffer.from(cwt.bytes!).toString('hex') } : {}) },
    ...(s.renewedFrom ? { renewedFrom: s.renewedFrom } : {}),
  };
}

/**
 * Writes the response out, then records it. Order matters for kill -9: issued/<id>.json (the registry's copy,
 * atomic) first, then the organisation's copy `out` (atomic), then the row (one transaction). A crash before the
 * commit leaves a written response that the next Registry.open records (reconcile); a row never exists without
 * its file.
 */
export async function issue(rt: AuthorityRuntime, registry: Registry, r: EndorsementResponse, o: { out: string; requestText: string | null; requestFile: string | null; nonce: string | null }): Promise<EndorsementRecord> {
  await mkdir(join(rt.dir, 'issued'), { recursive: true });
  let requestFile = o.requestFile;
  if (o.requestText !== null) {
    await mkdir(join(rt.dir, 'requests'), { recursive: true });
    requestFile = `requests/${r.id}.json`;
    await writeFileAtomic(join(rt.dir, requestFile), o.requestText);
  }
  const text = `${JSON.stringify(r, null, 2)}\n`;
  await writeFileAtomicExclusive(join(rt.dir, 'issued', `${r.id}.json`), text);
  await writeFileAtomic(o.out, text);
  const rec: EndorsementRecord = {
    id: r.id,
    organization: r.organization,
    kid: r.kid,
    coseKid: r.coseKid,
    constraints: r.constraints,
    issued: Math.floor(Date.parse(r.issued) / 1000),
    expires: Math.floor(Date.parse(r.expires) / 1000),
    status: 'active',
    reason: null,
    revokedAt: null,
    issuedFile: `issued/${r.id}.json`,
    responseFile: o.out,
    requestFile,
    renewedFrom: r.renewedFrom ?? null,
  };
  registry.record(rec, { now: rt.now, nonce: o.nonce, action: r.renewedFrom ? 'renew' : 'grant' });
  return rec;
}

export function refuseExisting(out: string): void {
  if (existsSync(out)) throw new EmblemError('FILE_EXISTS', `${out} exists; responses are never overwritten`);
}
