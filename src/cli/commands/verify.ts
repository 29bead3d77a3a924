import { Command, Option } from 'commander';
import type { ReportedError } from '../../core/errors.js';
import type { Material } from '../../core/material/material.js';
import { parseMaterialText } from '../../core/material/parse-text.js';
import { verifyMaterial } from '../../core/verify/index.js';
import { isFailure, isIndeterminate } from '../../core/verify/report.js';
import { addCommitmentOptions, commitmentCheckerFor, ctBundleInfoFor, ctBundleLine, type CommitmentFlags } from '../commitment-flags.js';
import { parseTime } from '../duration.js';
import { ExitCode, UsageError } from '../exit.js';
import { readPublicKeyFile, readStdin, readTextFile } from '../inputs.js';
import { formatReport } from '../report-text.js';
import { trustStoreKeys } from '../../trust/store.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** One input file: a whole-file JSON object is a (possibly pretty-printed) JWK; otherwise one item per line. */
export function materialFromText(text: string, source: string): { material: Material[]; errors: ReportedError[] } {
  const trimmed = text.trim();
  if (trimmed.startsWith('{') && trimmed.includes('\n')) {
    try {
      return { material: [{ kind: 'jwk', jwk: JSON.parse(trimmed), source }], errors: [] };
    } catch {
      // not one JSON document: fall through to line-by-line reading
    }
  }
  return parseMaterialText(text, source);
}

export interface VerifyFlags extends CommitmentFlags {
  trustedKey?: string[];
  trustStore?: string[];
  at?: string;
  json?: boolean;
  policy: 'spec' | 'prototype';
}

export function registerVerify(program: Command): void {
  const cmd = program
    .command('verify')
    .description('verify one token set (emblem, endorsements, keys) from files or standard input')
    .argument('[files...]', 'files with one item per line: JWS token, CWT hex, JWK JSON, or adem-token=/adem-key= TXT record (dig quoting ok); none = stdin')
    .option('--trusted-key <file>', 'a key you trust out of band (PEM or JWK); repeatable', collect)
    .option('--trust-store <file|folder>', 'pinned authority keys (emblem trust add); each acts like --trusted-key; repeatable', collect)
    .option('--at <time>', 'verify as of this ISO-8601 time instead of now')
    .addOption(
      new Option('--policy <policy>', 'spec: an emblem without issuer and endorsements is SIGNED-UNTRUSTED (drafts); prototype: INVALID unless signed by a trusted key (Go/JS prototypes)')
        .choices(['spec', 'prototype'])
        .default('spec'),
    )
    .option('--json', 'print the JSON report');
  addCommitmentOptions(cmd);
  cmd.addHelpText(
    'after',
    `
Exit codes: 0 valid (neither INVALID nor UNSIGNED), 1 INVALID or UNSIGNED, 2 usage or unreadable input,
3 indeterminate: a root-key commitment could not be checked ("commitment": "unavailable"; the result is what
was proven without it; check again online, with --log-list, or offline with --ct-bundle).

Examples:
  emblem verify --skip-commitment-check ../shared/interop/dns/emblem.felixlinker.de.txt
  dig +short TXT emblem.example | emblem verify --json
  emblem verify --at 2026-06-17T00:10:00Z --skip-commitment-check --json set.txt`,
  );
  cmd.action(async (files: string[], opts: VerifyFlags) => {
    const now = opts.at ? parseTime(opts.at, '--at') : new Date();
    const trustedKeys = await Promise.all((opts.trustedKey ?? []).map((f) => readPublicKeyFile(f)));
    trustedKeys.push(...(await trustStoreKeys(opts.trustStore ?? [])));
    const commitments = await commitmentCheckerFor(opts);
    const material: Material[] = [];
    const inputErrors: ReportedError[] = [];
    const sources = files.length ? files : ['-'];
    for (const file of sources) {
      const text = file === '-' ? await readStdin() : await readTextFile(file);
      const parsed = materialFromText(text, file === '-' ? 'stdin' : file);
      material.push(...parsed.material);
      inputErrors.push(...parsed.errors);
    }
    if (material.length === 0 && inputErrors.length === 0) {
      // Nothing to verify is not an INVALID set: the input was empty (or only blank lines and comments).
      const where = sources.map((f) => (f === '-' ? 'standard input' : f)).join(', ');
      throw new UsageError(`nothing was read: ${where} ${sources.length > 1 ? 'hold' : 'holds'} no token, key or TXT record`);
    }
    const report = await verifyMaterial(material, { now, trustedKeys, commitments, inputErrors, policy: { unauthenticatedChain: opts.policy } });
    const bundle = await ctBundleInfoFor(opts, now);
    const json = bundle ? { ...report, ctBundle: bundle } : report;
    process.stdout.write(opts.json ? `${JSON.stringify(json, null, 2)}\n` : `${formatReport(report)}${bundle ? `${ctBundleLine(bundle)}\n` : ''}`);
    process.exitCode = isFailure(report) ? ExitCode.NOT_VALID : isIndeterminate(report) ? ExitCode.INDETERMINATE : ExitCode.OK;
  });
}
