import { EmblemError } from '../core/errors.js';
import { parseAssetIdentifier } from '../core/identifiers/asset.js';
import { parseOrganizationIdentifier } from '../core/identifiers/organization.js';
import { Limits } from '../core/limits.js';
import { parsePublicJwk, type PublicKey } from '../core/tokens/keys.js';
import { JWS_PURPOSES, type Era, type PurposeName } from '../core/tokens/token.js';
import type { LogPointer } from '../core/verify/commitment.js';
import { AuthorityLimits } from './limits.js';
import { logFromJson, type LogEntryJson } from './log-json.js';

export const REQUEST_TYPE = 'adem-endorsement-request';
export const REQUEST_VERSION = 1;

/** What an organisation asks an authority to endorse. Absent constraint = the organisation asks for none. */
export interface RequestedConstraints {
  assets?: string[];
  purposes?: PurposeName[];
  /** Longest emblem lifetime (JWS `wnd`), seconds. */
  maxLifetime?: number;
}

/** docs/endorsement-request.schema.json describes this object (the file is it, with `proof`). */
export interface EndorsementRequestBody {
  version: 1;
  type: typeof REQUEST_TYPE;
  authority: string;
  organization: string;
  rootKey: { jwk: JsonWebKey; kid: string; coseKid: string };
  log: LogEntryJson[];
  constraints: RequestedConstraints;
  contact: string;
  nonce: string;
  createdAt: string;
  /** Eras the organisation publishes (its folder's era): a CWT endorsement is signed too when "cwt" is listed. Absent = ["jws"]. */
  eras?: Era[];
}

export interface EndorsementRequestFile extends EndorsementRequestBody {
  /** Detached compact JWS (header..signature) by the root key over the canonical JSON of every other member. */
  proof: string;
}

/** A request parsed and checked for shape (not for its proof: see request-proof.ts). */
export interface ParsedRequest {
  body: EndorsementRequestBody;
  /** The eras to endorse in (body.eras, default ["jws"]). */
  eras: Era[];
  proof: string;
  rootKey: PublicKey;
  log: LogPointer[];
  host: string;
  createdAt: number;
}

const bad = (message: string) => new EmblemError('REQUEST_MALFORMED', message);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function parseConstraints(value: unknown, field: string): RequestedConstraints {
  if (!isObject(value)) throw bad(`${field} must be an object`);
  const out: RequestedConstraints = {};
  for (const k of Object.keys(value)) if (!['assets', 'purposes', 'maxLifetime'].includes(k)) throw bad(`${field}.${k}: unknown member`);
  if (value.assets !== undefined) {
    if (!Array.isArray(value.assets) || value.assets.length === 0) throw bad(`${field}.assets must be a non-empty array`);
    if (value.assets.length > AuthorityLimits.maxConstraintAssets) throw new EmblemError('LIMIT_EXCEEDED', `${field}.assets: more than ${AuthorityLimits.maxConstraintAssets}`);
    out.assets = value.assets.map((a: unknown, i: number) => {
      try {
        parseAssetIdentifier(a);
      } catch (err) {
        throw bad(`${field}.assets[${i}]: ${(err as Error).message}`);
      }
      return a as string;
    });
  }
  if (value.purposes !== undefined) {
    if (!Array.isArray(value.purposes) || value.purposes.length === 0) throw bad(`${field}.purposes must be a non-empty array`);
    out.purposes = value.purposes.map((p: unknown, i: number) => {
      if (typeof p !== 'string' || !(JWS_PURPOSES as readonly string[]).includes(p)) throw bad(`${field}.purposes[${i}] must be one of ${JWS_PURPOSES.join(', ')}`);
      return p as PurposeName;
    });
  }
  if (value.maxLifetime !== undefined) {
    if (!Number.isSafeInteger(value.maxLifetime) || (value.maxLifetime as number) <= 0 || (value.maxLifetime as number) > Limits.maxTokenLifetimeSeconds) {
      throw bad(`${field}.maxLifetime must be seconds from 1 to ${Limits.maxTokenLifetimeSeconds}`);
    }
    out.maxLifetime = value.maxLifetime as number;
  }
  return out;
}

/**
 * Parses a request file. Everything in it is attacker-controlled: sizes are bounded before parsing, every member
 * is checked, and the kids are recomputed from the key (never taken from the file).
 */
export function parseRequest(text: string): ParsedRequest {
  if (text.length > AuthorityLimits.maxRequestBytes) throw new EmblemError('LIMIT_EXCEEDED', `the request is ${text.length} bytes (limit ${AuthorityLimits.maxRequestBytes})`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw bad('the request is not JSON');
  }
  if (!isObject(doc)) throw bad('the request must be a JSON object');
  const allowed = ['version', 'type', 'authority', 'organization', 'rootKey', 'log', 'constraints', 'contact', 'nonce', 'createdAt', 'eras', 'proof'];
  for (const k of Object.keys(doc)) if (!allowed.includes(k)) throw bad(`unknown member "${k}"`);
  if (doc.version !== REQUEST_VERSION) throw bad(`version must be ${REQUEST_VERSION}, got ${JSON.stringify(doc.version)}`);
  if (doc.type !== REQUEST_TYPE) throw bad(`type must be "${REQUEST_TYPE}"`);
  let host: string;
  let authority: string;
  let organization: string;
  try {
    authority = parseOrganizationIdentifier(doc.authority).text;
  } catch (err) {
    throw bad(`authority: ${(err as Error).message}`);
  }
  try {
    const oi = parseOrganizationIdentifier(doc.organization);
    organization = oi.text;
    host = oi.host;
  } catch (err) {
    throw bad(`organization: ${(err as Error).message}`);
  }
  if (!isObject(doc.rootKey)) throw bad('rootKey must be an object {jwk, kid, coseKid}');
  let rootKey: PublicKey;
  try {
    rootKey = parsePublicJwk(doc.rootKey.jwk);
  } catch (err) {
    throw bad(`rootKey.jwk: ${(err as Error).message}`);
  }
  if (doc.rootKey.kid !== rootKey.jwsKid) throw bad(`rootKey.kid ${JSON.stringify(doc.rootKey.kid)} is not the key's kid ${rootKey.jwsKid}`);
  if (doc.rootKey.coseKid !== rootKey.coseKidText) throw bad(`rootKey.coseKid ${JSON.stringify(doc.rootKey.coseKid)} is not the key's COSE kid ${rootKey.coseKidText}`);
  if (!Array.isArray(doc.log) || doc.log.length === 0) throw bad('log must list the CT log entries of the binding certificate');
  if (doc.log.length > AuthorityLimits.maxLogEntries) throw new EmblemError('LIMIT_EXCEEDED', `log: more than ${AuthorityLimits.maxLogEntries} entries`);
  const log = logFromJson(doc.log, 'log');
  const constraints = parseConstraints(doc.constraints, 'constraints');
  if (typeof doc.contact !== 'string' || doc.contact.length > AuthorityLimits.maxContactChars) throw bad(`contact must be text of at most ${AuthorityLimits.maxContactChars} characters`);
  if (typeof doc.nonce !== 'string' || !/^[A-Za-z0-9_-]{16,128}$/.test(doc.nonce)) throw bad('nonce must be 16 to 128 base64url characters');
  if (typeof doc.createdAt !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(doc.createdAt) || Number.isNaN(Date.parse(doc.createdAt))) throw bad('createdAt must be an ISO-8601 UTC time');
  if (doc.eras !== undefined) {
    if (!Array.isArray(doc.eras) || doc.eras.length === 0 || doc.eras.length > 2 || doc.eras.some((e) => e !== 'jws' && e !== 'cwt') || new Set(doc.eras).size !== doc.eras.length) {
      throw bad('eras must list "jws" and/or "cwt" once each');
    }
  }
  if (typeof doc.proof !== 'string' || !/^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+$/.test(doc.proof)) throw bad('proof must be a detached compact JWS (header..signature)');
  const body: EndorsementRequestBody = {
    version: 1,
    type: REQUEST_TYPE,
    authority,
    organization,
    rootKey: { jwk: doc.rootKey.jwk as JsonWebKey, kid: rootKey.jwsKid, coseKid: rootKey.coseKidText },
    log: doc.log as LogEntryJson[],
    constraints: doc.constraints as RequestedConstraints,
    contact: doc.contact,
    nonce: doc.nonce,
    createdAt: doc.createdAt,
    ...(doc.eras !== undefined ? { eras: doc.eras as Era[] } : {}),
  };
  return { body, eras: body.eras ?? ['jws'], proof: doc.proof, rootKey, log, host, createdAt: Math.floor(Date.parse(doc.createdAt) / 1000) };
}
