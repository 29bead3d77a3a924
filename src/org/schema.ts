/**
 * JSON Schema (draft 2020-12) of emblem-org.yaml. docs/emblem-org.schema.json is this object, written out
 * (test/org/config.test.ts checks they are equal). The validator in config.ts interprets the subset used here.
 */
export const ORG_CONFIG_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://emblem.example/emblem-org.schema.json',
  title: 'emblem-org.yaml: an organisation issuing digital emblems',
  type: 'object',
  additionalProperties: false,
  required: ['version', 'organization', 'assets', 'keys', 'channels'],
  properties: {
    version: { type: 'integer', enum: [1], description: 'Format version.' },
    organization: { type: 'string', pattern: '^https://[^/]+$', description: 'Organisation identifier, https://<host>.' },
    assets: {
      type: 'array',
      maxItems: 100000,
      description: 'Asset identifiers: domain names, *.wildcards, [IPv4], [IPv6], [prefix/len]. Domain assets are published at their own name.',
      items: { type: 'string', minLength: 1, maxLength: 300 },
    },
    purposes: { type: 'array', items: { type: 'string', enum: ['protective', 'indicative'] }, description: 'Default [protective].' },
    distribution: { type: 'array', items: { type: 'string', enum: ['dns'] }, description: 'JWS only: distribution methods (dst).' },
    lifetime: { type: 'string', pattern: '^[0-9]+[smhdw]?$', description: 'Emblem lifetime, e.g. 7d (default 7d).' },
    renewBefore: { type: 'string', pattern: '^[0-9]+[smhdw]?$', description: 'Renew when less than this remains (default a third of the lifetime).' },
    era: { type: 'string', enum: ['jws', 'cwt', 'both'], description: 'jws: TXT (DNS-01); cwt: IHLE (DNS-02); both.' },
    ttl: { type: 'integer', minimum: 1, maximum: 604800, description: 'TTL of the emblem records (default 300).' },
    ihleType: { type: 'integer', minimum: 1, maximum: 65535, description: 'RR type code of IHLE (default 65400).' },
    keys: {
      type: 'object',
      additionalProperties: false,
      required: ['root', 'emblem'],
      properties: {
        root: { $ref: '#/$defs/keyRef' },
        emblem: { $ref: '#/$defs/keyRef' },
        previousEmblem: { $ref: '#/$defs/keyRef' },
      },
    },
    binding: {
      type: 'object',
      additionalProperties: false,
      description: 'The root key\'s binding certificate (written by `org cert` or `org set-binding`).',
      properties: {
        chain: { type: 'string', description: 'PEM chain, leaf first (relative to the folder).' },
        log: { type: 'string', description: 'JSON file with the `log` entries of the certificate.' },
      },
    },
    endorsements: { type: 'array', items: { type: 'string' }, description: 'Files of endorsements received from authorities (published with every set).' },
    channels: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['url'],
        properties: {
          url: { type: 'string', pattern: '^(rfc2136://|zonefile:|octodns:)', description: 'rfc2136://HOST[:PORT]/ZONE, zonefile:PATH or octodns:PATH.' },
          tsigKey: { type: 'string', description: 'rfc2136: key file as written by tsig-keygen.' },
          zone: { type: 'string', description: 'zonefile/octodns: the zone (default: the organisation host).' },
          reloadCommand: { type: 'string', description: 'zonefile: run (sh -c) after each change, e.g. knotc zone-reload ZONE.' },
          servers: { type: 'array', items: { type: 'string' }, description: 'zonefile: authoritative servers to verify on, IP:PORT.' },
        },
      },
    },
    ctLogLists: { type: 'array', items: { type: 'string' }, description: 'CT log lists (URL or file) used to verify commitments, and where `org cert` submits.' },
    verify: {
      type: 'object',
      additionalProperties: false,
      properties: {
        skipCommitmentCheck: { type: 'boolean' },
        caBundle: { type: 'string', description: 'PEM file of the CAs trusted for binding-certificate chains (path, relative to the folder or absolute); default the system bundle /etc/ssl/certs/ca-certificates.crt. Local demos: the local or ACME test CA.' },
        expectLevel: { type: 'string', description: 'Level every asset must reach, e.g. ORGANIZATIONAL-UNTRUSTED (default: any protected result).' },
      },
    },
    lint: {
      type: 'object',
      additionalProperties: false,
      properties: {
        minPrefixV4: { type: 'integer', minimum: 0, maximum: 32 },
        minPrefixV6: { type: 'integer', minimum: 0, maximum: 128 },
        maxCacheSeconds: { type: 'integer', minimum: 0, description: 'Longest a withdrawn record may linger in caches (default 3600).' },
        ignore: { type: 'array', items: { type: 'string' } },
      },
    },
  },
  $defs: {
    keyRef: {
      type: 'object',
      additionalProperties: false,
      description: 'Where a private key lives: exactly one of file and pkcs11.',
      properties: {
        file: { type: 'string', description: 'Private JWK (encrypted JWE when a passphrase is set), relative to the folder.' },
        pkcs11: {
          type: 'object',
          additionalProperties: false,
          required: ['module', 'token', 'label', 'alg'],
          description: 'A key pair in a PKCS#11 token (written by `org init --pkcs11-module --pkcs11-token`): the private key was generated inside the token, sensitive and not extractable, and signs there. The PIN is never stored here: $EMBLEM_PKCS11_PIN, or the file named by pinFile.',
          properties: {
            module: { type: 'string', minLength: 1, description: 'Path of the PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so.' },
            token: { type: 'string', minLength: 1, maxLength: 32, description: 'Label of the token (CK_TOKEN_INFO label).' },
            label: { type: 'string', minLength: 1, maxLength: 128, description: 'CKA_LABEL of the key pair in the token.' },
            id: { type: 'string', pattern: '^([0-9a-f]{2}){1,64}$', description: 'CKA_ID of the key pair (hex); when present, the key found by label must have it.' },
            alg: { type: 'string', enum: ['ES256', 'ES512'], description: 'ES256 (P-256) or ES512 (P-521).' },
            pinFile: { type: 'string', description: 'File whose first line is the user PIN (path, relative to the folder or absolute), e.g. a systemd credential; default $EMBLEM_PKCS11_PIN.' },
          },
        },
        public: { type: 'string', description: 'Public JWK file.' },
      },
    },
  },
} as const;
