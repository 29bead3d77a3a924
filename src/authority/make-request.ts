import { randomBytes } from 'node:crypto';
import { EmblemError } from '../core/errors.js';
import { parseOrganizationIdentifier } from '../core/identifiers/organization.js';
import { openRuntime } from '../org/runtime.js';
import { bindingLog } from '../org/sign.js';
import { logToJson } from './log-json.js';
import { REQUEST_TYPE, type EndorsementRequestBody, type EndorsementRequestFile, type RequestedConstraints } from './request.js';
import { signRequestProof } from './request-proof.js';

export interface MakeRequestOptions {
  dir: string;
  authority: string;
  constraints: RequestedConstraints;
  contact: string;
  now: number;
  passphrase?: string;
  pkcs11PinFile?: string;
}

/**
 * The organisation's endorsement request, from its folder: the root key (through the org runtime, so a PKCS#11
 * root signs the proof in its token), the binding certificate's `log` entries, the requested constraints.
 */
export async function makeRequest(o: MakeRequestOptions): Promise<EndorsementRequestFile> {
  let authority: string;
  try {
    authority = parseOrganizationIdentifier(o.authority).text;
  } catch (err) {
    throw new EmblemError('USAGE', `--authority: ${(err as Error).message}`);
  }
  const rt = await openRuntime(o.dir, { now: o.now, ...(o.passphrase ? { passphrase: o.passphrase } : {}), ...(o.pkcs11PinFile ? { pkcs11PinFile: o.pkcs11PinFile } : {}) });
  try {
    const log = await bindingLog(o.dir, rt.config);
    if (!log) throw new EmblemError('BINDING_MISSING', `${o.dir} has no binding certificate yet: run emblem org cert (or org set-binding) first; an authority checks the root key's commitment in CT`);
    const { root } = await rt.keys();
    const body: EndorsementRequestBody = {
      version: 1,
      type: REQUEST_TYPE,
      authority,
      organization: rt.config.organization,
      rootKey: { jwk: root.publicKey.jwk as JsonWebKey, kid: root.publicKey.jwsKid, coseKid: root.publicKey.coseKidText },
      log: logToJson(log),
      constraints: o.constraints,
      contact: o.contact,
      nonce: randomBytes(18).toString('base64url'),
      createdAt: new Date(o.now * 1000).toISOString(),
      eras: rt.config.era === 'both' ? ['jws', 'cwt'] : [rt.config.era ?? 'jws'],
    };
    return { ...body, proof: await signRequestProof(body, root) };
  } finally {
    rt.close();
  }
}
