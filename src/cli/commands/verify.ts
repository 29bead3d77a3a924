import { Command, Option } from 'commander';
import { materialFromText, verifyTexts } from '../../validator/verify-text.js';
import { isFailure, isIndeterminate } from '../../core/verify/report.js';
import { addCommitmentOptions, commitmentCheckerFor, ctBundleInfoFor, ctBundleLine, type CommitmentFlags } from '../commitment-flags.js';
import { parseTime } from '../duration.js';
import { ExitCode, UsageError } from '../exit.js';
import { readPublicKeyFile, readStdin, readTextFile } from '../inputs.js';
import { formatReport } from '../report-text.js';
import { trustStoreKeys } from '../../trust/store.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Kept here for the commands that import it from the CLI (inspect, ct); the workflow lives in src/validator. */
export { materialFromText };

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
    const sources = files.length ? files : ['-'];
    const inputs = [];
    for (const file of sources) {
      const text = file === '-' ? await readStdin() : await readTextFile(file);
      inputs.push({ text, source: file === '-' ? 'stdin' : file, where: file === '-' ? 'standard input' : file });
    }
    const report = await verifyTexts(inputs, { now, trustedKeys, commitments, policy: { unauthenticatedChain: opts.policy } });
    const bundle = await ctBundleInfoFor(opts, now);
    const json = bundle ? { ...report, ctBundle: bundle } : report;
    process.stdout.write(opts.json ? `${JSON.stringify(json, null, 2)}\n` : `${formatReport(report)}${bundle ? `${ctBundleLine(bundle)}\n` : ''}`);
    process.exitCode = isFailure(report) ? ExitCode.NOT_VALID : isIndeterminate(report) ? ExitCode.INDETERMINATE : ExitCode.OK;
  });
}
