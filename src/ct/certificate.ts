import { X509Certificate } from 'node:crypto';

/** Certificate parsing is pure (certificate-parse.ts, shared with the browser extension); signatures use OpenSSL here. */
export * from './certificate-parse.js';

/** Does `issuerDer`'s key verify `certDer`'s signature? (Chain reporting and the local log; OpenSSL does the work.) */
export async function isSignedBy(certDer: Uint8Array, issuerDer: Uint8Array): Promise<boolean> {
  try {
    return new X509Certificate(certDer).verify(new X509Certificate(issuerDer).publicKey);
  } catch {
    return false;
  }
}

