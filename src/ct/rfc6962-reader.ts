import { fromBase64, toBase64 } from './bytes.js';
import { ctError, CtErrorCodes } from './errors.js';
import { parseJsonBody, type HttpClient } from './http.js';
import { CtLimits } from './limits.js';
import type { DigitallySignedVerifier } from './digitally-signed.js';
import { verifiedSthFromJson, type TreeHead } from './tree-head.js';

/** What the RFC 6962 client needs from a listed log. */
export interface Rfc6962LogEndpoint {
  url: string;
  key: Uint8Array;
  description: string;
}

export interface ProofByHash {
  leafIndex: number;
  auditPath: Uint8Array[];
}

export interface RawLogEntry {
  leafInput: Uint8Array;
  extraData: Uint8Array;
}

function asObject(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw ctError(CtErrorCodes.CT_RESPONSE_MALFORMED, `${what}: not a JSON object`);
  return v as Record<string, unknown>;
}

/** Decodes a JSON array of base64 hashes, bounded (RFC 6962 audit_path / consistency). */
function hashList(v: unknown, what: string): Uint8Array[] {
  if (!Array.isArray(v) || v.length > CtLimits.maxProofHashes) {
    throw ctError(CtErrorCodes.CT_RESPONSE_MALFORMED, `${what}: not an array of at most ${CtLimits.maxProofHashes} hashes`);
  }
  return v.map((h) => {
    const b = fromBase64(h);
    if (!b || b.length !== 32) throw ctError(CtErrorCodes.CT_RESPONSE_MALFORMED, `${what}: element is not a 32-byte base64 hash`);
    return b;
  });
}

/**
 * RFC 6962 §4 read API client. Every answer is treated as hostile: sizes bounded, shapes checked, the STH
 * signature verified before its root is used. Proof *verification* is the caller's (pure core functions).
 * Pure: the signature check is injected (node:crypto in src/ct/rfc6962-client.ts, WebCrypto in src/browser).
 */
export class Rfc6962Reader {
  constructor(
    private readonly log: Rfc6962LogEndpoint,
    private readonly http: HttpClient,
    private readonly verify: DigitallySignedVerifier,
  ) {}

  private async getJson(path: string, maxBytes: number = CtLimits.maxJsonResponseBytes): Promise<{ status: number; json: unknown }> {
    const url = `${this.log.url}ct/v1/${path}`;
    const res = await this.http(url, { maxBytes });
    if (res.status !== 200) return { status: res.status, json: null };
    return { status: 200, json: parseJsonBody(res, url) };
  }

  private unreachable(path: string, status: number): never {
    throw ctError(CtErrorCodes.CT_LOG_UNREACHABLE, `${this.log.description}: ${path} answered HTTP ${status}`);
  }

  async getSth(): Promise<TreeHead> {
    const { status, json } = await this.getJson('get-sth');
    if (status !== 200) this.unreachable('get-sth', status);
    return verifiedSthFromJson(json, this.log.key, `${this.log.description} get-sth`, this.verify);
  }

  async getConsistency(first: number, second: number): Promise<Uint8Array[]> {
    const { status, json } = await this.getJson(`get-sth-consistency?first=${first}&second=${second}`);
    if (status !== 200) this.unreachable('get-sth-consistency', status);
    return hashList(asObject(json, 'get-sth-consistency').consistency, 'get-sth-consistency');
  }

  /** 400/404 mean "no such leaf in that tree" in deployed logs (Trillian answers 404, others 400). */
  async getProofByHash(leafHash: Uint8Array, treeSize: number): Promise<ProofByHash> {
    const path = `get-proof-by-hash?hash=${encodeURIComponent(toBase64(leafHash))}&tree_size=${treeSize}`;
    const { status, json } = await this.getJson(path);
    if (status === 404 || status === 400) {
      throw ctError(CtErrorCodes.CT_LEAF_NOT_FOUND, `${this.log.description}: leaf hash ${toBase64(leafHash)} is not in the tree of size ${treeSize}`);
    }
    if (status !== 200) this.unreachable('get-proof-by-hash', status);
    const o = asObject(json, 'get-proof-by-hash');
    const leafIndex = o.leaf_index;
    if (typeof leafIndex !== 'number' || !Number.isSafeInteger(leafIndex) || leafIndex < 0 || leafIndex >= treeSize) {
      throw ctError(CtErrorCodes.CT_RESPONSE_MALFORMED, `${this.log.description}: get-proof-by-hash leaf_index out of range`);
    }
    return { leafIndex, auditPath: hashList(o.audit_path, 'get-proof-by-hash audit_path') };
  }

  /** RFC 6962 §4.7: the roots the log accepts (static-ct logs serve it under their submission prefix). */
  async getRoots(): Promise<Uint8Array[]> {
    const { status, json } = await this.getJson('get-roots', CtLimits.maxRootsResponseBytes);
    if (status !== 200) this.unreachable('get-roots', status);
    const certificates = asObject(json, 'get-roots').certificates;
    if (!Array.isArray(certificates) || certificates.length > CtLimits.maxLogRoots) {
      throw ctError(CtErrorCodes.CT_RESPONSE_MALFORMED, `${this.log.description}: get-roots is not an array of at most ${CtLimits.maxLogRoots} certificates`);
    }
    return certificates.map((c) => {
      const der = fromBase64(c);
      if (!der || der.length === 0 || der.length > CtLimits.maxCertificateBytes) {
        throw ctError(CtErrorCodes.CT_RESPONSE_MALFORMED, `${this.log.description}: get-roots element is not a base64 certificate of at most ${CtLimits.maxCertificateBytes} bytes`);
      }
      return der;
    });
  }

  async getEntry(index: number): Promise<RawLogEntry> {
    const { status, json } = await this.getJson(`get-entries?start=${index}&end=${index}`, CtLimits.maxEntriesResponseBytes);
    if (status !== 200) this.unreachable('get-entries', status);
    const entries = asObject(json, 'get-entries').entries;
    // Logs may return fewer entries than asked, never more; we asked for exactly one.
    if (!Array.isArray(entries) || entries.length !== 1) {
      throw ctError(CtErrorCodes.CT_RESPONSE_MALFORMED, `${this.log.description}: get-entries did not return exactly one entry`);
    }
    const e = asObject(entries[0], 'get-entries entry');
    const leafInput = fromBase64(e.leaf_input);
    const extraData = fromBase64(e.extra_data ?? '');
    if (!leafInput || !extraData) throw ctError(CtErrorCodes.CT_RESPONSE_MALFORMED, `${this.log.description}: get-entries entry is not base64`);
    return { leafInput, extraData };
  }
}
