import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EmblemError } from '../core/errors.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import { OrgLimits } from './limits.js';
import { ORG_CONFIG_SCHEMA } from './schema.js';

/** A key in a PKCS#11 token, by reference: never the PIN (that comes from $EMBLEM_PKCS11_PIN or `pinFile`). */
export interface Pkcs11KeyRef {
  module: string;
  token: string;
  label: string;
  /** CKA_ID, hex: when present, the key found by label must carry it (a relabelled stranger is refused). */
  id?: string;
  alg: 'ES256' | 'ES512';
  pinFile?: string;
}

/** Where a private key lives: exactly one of `file` (JWK/JWE in the folder) and `pkcs11` (a token). */
export interface KeyRef {
  file?: string;
  pkcs11?: Pkcs11KeyRef;
  public?: string;
}

export interface ChannelConfig {
  url: string;
  tsigKey?: string;
  zone?: string;
  reloadCommand?: string;
  servers?: string[];
}

export interface OrgConfig {
  version: 1;
  organization: string;
  assets: string[];
  purposes?: Array<'protective' | 'indicative'>;
  distribution?: Array<'dns'>;
  lifetime?: string;
  renewBefore?: string;
  era?: 'jws' | 'cwt' | 'both';
  ttl?: number;
  ihleType?: number;
  keys: { root: KeyRef; emblem: KeyRef; previousEmblem?: KeyRef };
  binding?: { chain?: string; log?: string };
  endorsements?: string[];
  channels: ChannelConfig[];
  ctLogLists?: string[];
  verify?: { skipCommitmentCheck?: boolean; expectLevel?: string; caBundle?: string };
  lint?: { minPrefixV4?: number; minPrefixV6?: number; maxCacheSeconds?: number; ignore?: string[] };
}

export const CONFIG_FILE = 'emblem-org.yaml';

type Schema = Record<string, unknown>;

function resolveRef(schema: Schema): Schema {
  const ref = schema.$ref as string | undefined;
  if (!ref) return schema;
  const name = ref.replace('#/$defs/', '');
  return (ORG_CONFIG_SCHEMA.$defs as Record<string, Schema>)[name]!;
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** Validates against the subset of JSON Schema the config schema uses; every problem names its field path. */
export function validateAgainstSchema(value: unknown, schemaIn: Schema, path: string, problems: string[]): void {
  const schema = resolveRef(schemaIn);
  const t = typeOf(value);
  const want = schema.type as string | undefined;
  if (want && !(t === want || (want === 'number' && t === 'integer'))) {
    problems.push(`${path}: expected ${want}, got ${t}`);
    return;
  }
  if (schema.enum && !(schema.enum as unknown[]).includes(value)) problems.push(`${path}: must be one of ${(schema.enum as unknown[]).map((e) => JSON.stringify(e)).join(', ')}`);
  if (t === 'string') {
    const s = value as string;
    if (schema.pattern && !new RegExp(schema.pattern as string).test(s)) problems.push(`${path}: ${JSON.stringify(s)} does not match ${schema.pattern as string}`);
    if (schema.minLength !== undefined && s.length < (schema.minLength as number)) problems.push(`${path}: too short`);
    if (schema.maxLength !== undefined && s.length > (schema.maxLength as number)) problems.push(`${path}: too long`);
  }
  if (t === 'integer' || t === 'number') {
    const n = value as number;
    if (schema.minimum !== undefined && n < (schema.minimum as number)) problems.push(`${path}: must be >= ${schema.minimum as number}`);
    if (schema.maximum !== undefined && n > (schema.maximum as number)) problems.push(`${path}: must be <= ${schema.maximum as number}`);
  }
  if (t === 'array') {
    const a = value as unknown[];
    if (schema.minItems !== undefined && a.length < (schema.minItems as number)) problems.push(`${path}: needs at least ${schema.minItems as number} item(s)`);
    if (schema.maxItems !== undefined && a.length > (schema.maxItems as number)) problems.push(`${path}: more than ${schema.maxItems as number} items`);
    if (schema.items) a.forEach((item, i) => validateAgainstSchema(item, schema.items as Schema, `${path}[${i}]`, problems));
  }
  if (t === 'object') {
    const o = value as Record<string, unknown>;
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    for (const r of (schema.required ?? []) as string[]) if (!(r in o)) problems.push(`${path}.${r}: required`);
    for (const [k, v] of Object.entries(o)) {
      if (k in props) validateAgainstSchema(v, props[k]!, `${path}.${k}`, problems);
      else if (schema.additionalProperties === false) problems.push(`${path}.${k}: unknown key`);
    }
  }
}

/** Parses and validates emblem-org.yaml text; errors are CONFIG_INVALID naming each bad field ("config.assets[2]: ..."). */
export async function parseConfig(text: string, where = CONFIG_FILE): Promise<OrgConfig> {
  if (text.length > OrgLimits.maxConfigBytes) throw new EmblemError('CONFIG_INVALID', `${where} is larger than ${OrgLimits.maxConfigBytes} bytes`);
  const YAML = await import('yaml');
  let doc: unknown;
  try {
    doc = YAML.parse(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new EmblemError('CONFIG_INVALID', `${where}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const problems: string[] = [];
  validateAgainstSchema(doc, ORG_CONFIG_SCHEMA as unknown as Schema, 'config', problems);
  if (problems.length === 0) {
    // JSON Schema's oneOf is outside the validator's subset: "exactly one of file and pkcs11" is checked here.
    for (const [name, ref] of Object.entries((doc as OrgConfig).keys) as Array<[string, KeyRef]>) {
      if (ref.file !== undefined && ref.pkcs11 !== undefined) problems.push(`config.keys.${name}: give "file" or "pkcs11", not both`);
      if (ref.file === undefined && ref.pkcs11 === undefined) problems.push(`config.keys.${name}: needs "file" or "pkcs11"`);
    }
  }
  if (problems.length) throw new EmblemError('CONFIG_INVALID', `${where}: ${problems.slice(0, 10).join('; ')}${problems.length > 10 ? ` (+${problems.length - 10} more)` : ''}`);
  return doc as OrgConfig;
}

export async function loadConfig(dir: string): Promise<OrgConfig> {
  const path = join(dir, CONFIG_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new EmblemError('CONFIG_MISSING', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message} (run emblem org init first)`);
  }
  return parseConfig(text, path);
}

export async function saveConfig(dir: string, config: OrgConfig): Promise<void> {
  const YAML = await import('yaml');
  const header = '# emblem org configuration; schema: docs/emblem-org.schema.json\n';
  await writeFileAtomic(join(dir, CONFIG_FILE), header + YAML.stringify(config, { lineWidth: 0 }));
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

export function durationSeconds(text: string, field: string): number {
  const m = /^(\d{1,10})([smhdw]?)$/.exec(text);
  if (!m) throw new EmblemError('CONFIG_INVALID', `${field}: ${JSON.stringify(text)} is not a duration (7d, 12h, 30s)`);
  const n = Number(m[1]) * UNITS[m[2] || 's']!;
  if (n <= 0) throw new EmblemError('CONFIG_INVALID', `${field}: must be positive`);
  return n;
}

/** Effective settings with defaults applied. */
export function settings(config: OrgConfig): { lifetime: number; renewBefore: number; era: 'jws' | 'cwt' | 'both'; ttl: number; ihleType: number; host: string } {
  const lifetime = durationSeconds(config.lifetime ?? '7d', 'config.lifetime');
  const renewBefore = config.renewBefore ? durationSeconds(config.renewBefore, 'config.renewBefore') : Math.floor(lifetime / 3);
  if (renewBefore >= lifetime) throw new EmblemError('CONFIG_INVALID', 'config.renewBefore: must be shorter than config.lifetime');
  return { lifetime, renewBefore, era: config.era ?? 'jws', ttl: config.ttl ?? 300, ihleType: config.ihleType ?? 65400, host: config.organization.replace(/^https:\/\//, '') };
}
