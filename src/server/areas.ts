import type { ServeFlags } from '../cli/commands/serve.js';
import { readPassphrase } from '../cli/inputs.js';
import { EmblemError } from '../core/errors.js';
import type { ObservatoryStore } from '../observatory/store.js';
import type { AuthorityArea } from './authority.js';
import type { EvidenceExporter, ObservatoryArea } from './observatory.js';
import type { OrgArea } from './org.js';

/**
 * Modules of other parts of issue 12 (the observe config, the database, the evidence log), loaded by name at run
 * time so that this file compiles before they are merged. Their interfaces are the ones agreed in the brief.
 */
const OBSERVE_CONFIG = '../observatory/config.js';
const DATABASE = '../store/database/index.js';
const EVIDENCE = '../evidence/index.js';

interface ObserveConfigLike {
  targets?: string[];
  targetsFile?: string;
  evidenceDir?: string;
  database?: string;
}

async function importOptional<T>(specifier: string, what: string): Promise<T> {
  try {
    return (await import(specifier)) as T;
  } catch (err) {
    throw new EmblemError('USAGE', `--observe-config needs ${what}, which this build does not have (${(err as Error).message})`);
  }
}

/** Opens the optional areas the flags name (org folder, authority folder, observe config). */
export async function openAreas(opts: ServeFlags): Promise<{ org?: OrgArea; authority?: AuthorityArea; observatory?: ObservatoryArea; close?: () => Promise<void> }> {
  const passphrase = opts.org || opts.authority ? await readPassphrase(opts.passphraseFile) : undefined;
  let observatory: ObservatoryArea | undefined;
  let store: ObservatoryStore | undefined;
  if (opts.observeConfig) {
    const { loadObserveConfig } = await importOptional<{ loadObserveConfig(path: string): Promise<ObserveConfigLike> }>(OBSERVE_CONFIG, 'the observe service (src/observatory/config.ts)');
    const { openObservatoryStore } = await importOptional<{ openObservatoryStore(url: string): Promise<ObservatoryStore> }>(DATABASE, 'the observatory database (src/store/database)');
    const config = await loadObserveConfig(opts.observeConfig);
    store = await openObservatoryStore(config.database ?? 'sqlite::memory:');
    await store.migrate();
    let exportEvidence: EvidenceExporter | undefined;
    if (config.evidenceDir) exportEvidence = (await importOptional<{ exportEvidenceBundle: EvidenceExporter }>(EVIDENCE, 'the evidence log (src/evidence)')).exportEvidenceBundle;
    const targets = async () => {
      if (config.targets?.length) return config.targets;
      if (config.targetsFile) {
        const { readFile } = await import('node:fs/promises');
        return (await readFile(config.targetsFile, 'utf8')).split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
      }
      return [];
    };
    observatory = { store, targets, ...(config.evidenceDir ? { evidenceDir: config.evidenceDir } : {}), ...(config.database ? { database: config.database } : {}), ...(exportEvidence ? { exportEvidence } : {}) };
  }
  return {
    ...(opts.org ? { org: { dir: opts.org, ...(passphrase ? { passphrase } : {}) } } : {}),
    ...(opts.authority ? { authority: { dir: opts.authority, ...(passphrase ? { passphrase } : {}) } } : {}),
    ...(observatory ? { observatory } : {}),
    close: async () => {
      await store?.close();
    },
  };
}
