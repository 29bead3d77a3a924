import { fromBase64, toBase64 } from './bytes.js';
import { ctError, CtErrorCodes } from './errors.js';
import { fetchHttp, parseJsonBody, type HttpClient } from './http.js';
import { CtLimits } from './limits.js';
import type { SignedCertificateTimestamp } from './sct.js';
import { parseDigitallySigned } from './signature.js';

/** RFC 6962 §4.1/4.2 add-chain / add-pre-chain answer. */
export function sctToJson(sct: SignedCertificateTimestamp): Record<string, unknown> {
  return {
    sct_version: sct.version,
    id: toBase64(sct.logId),
    timestamp: sct.timestamp,
    extensions: toBase64(sct.extensions),
    signature: toBase64(
      Uint8Array.of(sct.hashAlgorithm, sct.signatureAlgorithm, sct.signature.length >> 8, sct.signature.length & 0xff, ...sct.signature),
    ),
  };
}

export function sctFromJson(json: unknown, source: string): SignedCertificateTimestamp {
  const o = typeof json === 'object' && json !== null ? (json as Record<string, unknown>) : {};
  const logId = fromBase64(o.id);
  const extensions = fromBase64(o.extensions ?? '');
  const sig = fromBase64(o.signature);
  if (o.sct_version !== 0 || !logId || logId.length !== 32 || typeof o.timestamp !== 'number' || !Number.isSafeInteger(o.timestamp) || !extensions || !sig) {
    throw ctError(CtErrorCodes.CT_RESPONSE_MALFORMED, `${source}: malformed SCT`);
  }
  const ds = parseDigitallySigned(sig, 'SCT signature');
  return {
    version: 0,
    logId,
    timestamp: o.timestamp,
    extensions,
    hashAlgorithm: ds.hashAlgorithm,
    signatureAlgorithm: ds.signatureAlgorithm,
    signature: ds.signature,
  };
}

/** Submits a chain (leaf first, DER) to an RFC 6962 log; `precertificate` selects add-pre-chain. */
export async function submitChain(
  logUrl: string,
  chain: Uint8Array[],
  options: { precertificate?: boolean; http?: HttpClient } = {},
): Promise<SignedCertificateTimestamp> {
  const base = logUrl.endsWith('/') ? logUrl : `${logUrl}/`;
  const url = `${base}ct/v1/${options.precertificate ? 'add-pre-chain' : 'add-chain'}`;
  const res = await (options.http ?? fetchHttp)(url, {
    method: 'POST',
    body: JSON.stringify({ chain: chain.map(toBase64) }),
    maxBytes: CtLimits.maxJsonResponseBytes,
    timeoutMs: 30_000,
  });
  if (res.status !== 200) {
    throw ctError(CtErrorCodes.CT_SUBMISSION_REJECTED, `${url}: HTTP ${res.status} ${Buffer.from(res.body.subarray(0, 300)).toString('utf8')}`);
  }
  return sctFromJson(parseJsonBody(res, url), url);
}
