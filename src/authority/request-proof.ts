import { base64urlDecode, base64urlEncode, utf8Decode, utf8Encode } from '../core/encoding.js';
import { parsePublicJwk, verifySignature, type PublicKey } from '../core/tokens/keys.js';
import { signBytes, type SigningKey } from '../core/tokens/sign.js';
import { canonicalJson } from './canonical-json.js';
import type { EndorsementRequestBody } from './request.js';

export const PROOF_TYP = 'adem-endorsement-request+jws';

function signingInput(header: string, body: EndorsementRequestBody): Uint8Array {
  return utf8Encode(`${header}.${base64urlEncode(utf8Encode(canonicalJson(body)))}`);
}

/**
 * Proof of possession: a detached compact JWS (RFC 7515 appendix F) by the root key over the canonical JSON of
 * the request. It binds every member (constraints, nonce, time, authority) to the key, so neither a copy of
 * someone's public key nor an edited request passes review.
 */
export async function signRequestProof(body: EndorsementRequestBody, key: SigningKey): Promise<string> {
  const header = base64urlEncode(utf8Encode(JSON.stringify({ alg: key.alg, kid: key.publicKey.jwsKid, typ: PROOF_TYP })));
  const signature = await signBytes(key, signingInput(header, body));
  return `${header}..${base64urlEncode(signature)}`;
}

/** null when the proof verifies with `rootKey`, else why not. */
export async function checkRequestProof(body: EndorsementRequestBody, proof: string, rootKey: PublicKey): Promise<string | null> {
  const [header, , signature] = proof.split('.');
  let h: Record<string, unknown>;
  try {
    h = JSON.parse(utf8Decode(base64urlDecode(header!))) as Record<string, unknown>;
  } catch {
    return 'the proof header is not base64url JSON';
  }
  if (h.typ !== PROOF_TYP) return `the proof header has typ ${JSON.stringify(h.typ)}, not ${PROOF_TYP}`;
  if (h.alg !== rootKey.alg) return `the proof is ${String(h.alg)}, the root key ${rootKey.alg}`;
  if (h.kid !== rootKey.jwsKid) return `the proof names key ${String(h.kid)}, not the requested root key ${rootKey.jwsKid}`;
  let sig: Uint8Array;
  try {
    sig = base64urlDecode(signature!);
  } catch {
    return 'the proof signature is not base64url';
  }
  const ok = await verifySignature(parsePublicJwk(rootKey.jwk), signingInput(header!, body), sig).catch(() => false);
  return ok ? null : 'the proof signature does not verify with the requested root key (the request was altered, or signed by another key)';
}
