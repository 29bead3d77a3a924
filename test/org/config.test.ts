import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseConfig } from '../../src/org/config.js';
import { ORG_CONFIG_SCHEMA } from '../../src/org/schema.js';

test('docs/emblem-org.schema.json is the schema the validator uses', () => {
  const doc = JSON.parse(readFileSync(new URL('../../docs/emblem-org.schema.json', import.meta.url), 'utf8')) as unknown;
  assert.deepEqual(doc, JSON.parse(JSON.stringify(ORG_CONFIG_SCHEMA)));
});

const GOOD = `version: 1
organization: https://hospital.example
assets: [clinic.hospital.example]
keys: { root: { file: keys/root.jwk }, emblem: { file: keys/emblem.jwk } }
channels: [{ url: "rfc2136://127.0.0.1:53/hospital.example", tsigKey: k.key }]
`;

test('config validation names the field: unknown keys, wrong types, enums, patterns, nested', async () => {
  await parseConfig(GOOD);
  const cases: Array<[string, RegExp]> = [
    [`${GOOD}foo: 1\n`, /config\.foo: unknown key/],
    [GOOD.replace('version: 1', 'version: "1"'), /config\.version: expected integer, got string/],
    [GOOD.replace('https://hospital.example', 'hospital.example'), /config\.organization: .* does not match/],
    [`${GOOD}era: jwt\n`, /config\.era: must be one of "jws", "cwt", "both"/],
    [GOOD.replace('tsigKey: k.key', 'tsigKey: k.key, tsig: 1'), /config\.channels\[0\]\.tsig: unknown key/],
    [GOOD.replace('{ file: keys/root.jwk }', '{ file: 7 }'), /config\.keys\.root\.file: expected string, got integer/],
    [GOOD.replace(/channels:.*\n/, ''), /config\.channels: required/],
    ['[unclosed', /not valid YAML/],
  ];
  for (const [text, re] of cases) await assert.rejects(parseConfig(text), (err: Error & { code: string }) => err.code === 'CONFIG_INVALID' && re.test(err.message));
});
