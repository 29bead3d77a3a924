/**
 * Material is what a validator collects for one token set before verification: tokens and keys as they came
 * off the wire (DNS TXT/IHLE records, files, stdin). Nothing here is trusted yet.
 */
export type Material =
  | { kind: 'jws'; text: string; source?: string }
  | { kind: 'cwt'; bytes: Uint8Array; source?: string }
  | { kind: 'jwk'; jwk: unknown; source?: string }
  | { kind: 'cose-key'; bytes: Uint8Array; source?: string }
  | { kind: 'spki-pem'; pem: string; source?: string };
