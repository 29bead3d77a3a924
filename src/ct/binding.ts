import type { ReportedError } from '../core/errors.js';
import type { CertificateSummary } from './certificate-parse.js';
import { CtErrorCodes } from './errors.js';

/** Whether an expired (or not yet valid) binding certificate fails the commitment. */
export interface BindingPolicy {
  /**
   * Default false: deployed bindings are 90-day Let's Encrypt certificates that expire long before the tokens
   * that point at them (SPEC-NOTES §5.5), and no prototype checks expiry. The expiry is still reported.
   */
  failOnExpired: boolean;
}

export const DEFAULT_BINDING_POLICY: BindingPolicy = { failOnExpired: false };

export interface BindingSubject {
  /** Host of the OI ("example.org"). */
  host: string;
  /** Textual kid of the committed key. */
  kid: string;
  now: Date;
}

export interface BindingResult {
  ok: boolean;
  errors: ReportedError[];
  /** Non-fatal findings (expiry under the lenient policy). */
  notes: string[];
  /** The names that satisfied the rule: the kid name and the host name used. */
  matched: string[];
  validity: { notBefore: string; notAfter: string; state: 'valid' | 'expired' | 'not-yet-valid' };
}

/**
 * CORE-01/-02 "Public Key Commitment" (SPEC-NOTES §1.5, §5.5): the logged certificate must name
 * `<kid>.adem-configuration.<host>`, and either `adem-configuration.<host>` (spec, GO-CWT) or the bare `<host>`
 * (deployed certificates, GO-JWT). Wildcard names are ignored (-02), so `*.adem-configuration.<host>` cannot
 * commit every key at once. The subject CN counts as a name, as in both prototypes.
 */
export function checkBinding(cert: CertificateSummary, subject: BindingSubject, policy: BindingPolicy = DEFAULT_BINDING_POLICY): BindingResult {
  const host = subject.host.toLowerCase().replace(/\.$/, '');
  const kid = subject.kid.toLowerCase();
  const names = new Set(
    [...cert.dnsNames, ...(cert.commonName ? [cert.commonName] : [])]
      .map((n) => n.toLowerCase().replace(/\.$/, ''))
      .filter((n) => !n.includes('*')),
  );
  const errors: ReportedError[] = [];
  const notes: string[] = [];
  const matched: string[] = [];
  const kidName = `${kid}.adem-configuration.${host}`;
  if (names.has(kidName)) matched.push(kidName);
  else errors.push({ code: CtErrorCodes.CT_BINDING_NAME_MISSING, message: `certificate ${cert.subject} does not name ${kidName}` });
  const hostName = [`adem-configuration.${host}`, host].find((n) => names.has(n));
  if (hostName) matched.push(hostName);
  else errors.push({ code: CtErrorCodes.CT_BINDING_NAME_MISSING, message: `certificate ${cert.subject} names neither adem-configuration.${host} nor ${host}` });

  const t = subject.now.getTime();
  const state = t < cert.notBefore.getTime() ? 'not-yet-valid' : t > cert.notAfter.getTime() ? 'expired' : 'valid';
  if (state !== 'valid') {
    const message = `binding certificate ${cert.subject} is ${state} at ${subject.now.toISOString()} (valid ${cert.notBefore.toISOString()} .. ${cert.notAfter.toISOString()})`;
    if (policy.failOnExpired) errors.push({ code: CtErrorCodes.CT_BINDING_EXPIRED, message });
    else notes.push(message);
  }
  return {
    ok: errors.length === 0,
    errors,
    notes,
    matched,
    validity: { notBefore: cert.notBefore.toISOString(), notAfter: cert.notAfter.toISOString(), state },
  };
}
