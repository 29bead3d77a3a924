import type { ServeFlags } from '../cli/commands/serve.js';
import { readPassphrase } from '../cli/inputs.js';
import type { ObservatoryStore } from '../observatory/store.js';
import type { AuthorityArea } from './authority.js';
import type { EvidenceExporter, ObservatoryArea } from './observatory.js';
import type { OrgArea } from './org.js';

/** Opens the optional areas the flags name (org folder, authority folder, observe config). */
export async function openAreas(opts: ServeFlags): Promise<{ org?: OrgArea; authority?: AuthorityArea; observatory?: ObservatoryArea; close?: () => Promise<void> }> {
  const passphrase = opts.org || opts.authority ? await readPassphrase(opts.passphraseFile) : undefined;
  let observatory: ObservatoryArea | undefined;
  let store: ObservatoryStore | undefined;
  if (opts.observeConfig) {
    // Loaded lazily: only `--observe-config` needs the observe config, the database drivers and the evidence log.
    const { loadObserveConfig } = await import('../observatory/config.js');
    const { openObservatoryStore } = await import('../store/database/index.js');
    const config = await loadObserveConfig(opts.observeConfig);
    const opened = await openObservatoryStore(config.database);
    store = opened;
    await opened.migrate();
    let exportEvidence: EvidenceExporter | undefined;
    if (config.evidenceDir) {
      const { exportEvidenceBundle, serializeBundle } = await import('../evidence/index.js');
      // The store is the observation index (leaf indexes by target); the bundle is still read and proven from the log.
      // Sent in the bundle's canonical text (its digest covers that form), as `emblem evidence export` writes it.
      exportEvidence = async ({ evidenceDir, target, at }) => serializeBundle(await exportEvidenceBundle({ evidenceDir, target, at, database: opened }));
    }
    const targets = async () => {
      if (config.targets?.length) return config.targets;
      if (config.targetsFile) {
        const { readFile } = await import('node:fs/promises');
        return (await readFile(config.targetsFile, 'utf8')).split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
      }
      return [];
    };
    observatory = { store: opened, targets, ...(config.evidenceDir ? { evidenceDir: config.evidenceDir } : {}), ...(exportEvidence ? { exportEvidence } : {}) };
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
