import { isFailure, type ContestedCandidate, type VerificationReport } from '../core/verify/report.js';

const COMMITMENT_TEXT: Record<VerificationReport['commitment'], string> = {
  verified: 'verified in Certificate Transparency',
  skipped: 'NOT checked (--skip-commitment-check): organisational and endorsed levels rest on unverified root keys',
  failed: 'FAILED',
  unavailable: 'COULD NOT BE CHECKED (indeterminate, not invalid)',
  'not-required': 'not required for this result',
};

/** The short human report: states the level and who endorsed it; never calls an asset protected without the level. */
export function formatReport(report: VerificationReport): string {
  const lines: string[] = [];
  const result = report.result.join(' + ');
  if (isFailure(report)) {
    lines.push(`Result: ${result} — this set marks no asset as protected.`);
  } else {
    lines.push(`Result: ${result} (levels: ${report.levels.join(', ')}; era: ${report.era})`);
    lines.push(`Marked as protected at level ${result}: ${report.protected.join(', ')}`);
    if (report.emblem?.purposes.length) lines.push(`Purposes: ${report.emblem.purposes.join(', ')}`);
    lines.push(`Issuer: ${report.issuer ?? '(none: the emblem names no organisation)'}`);
    lines.push(`Endorsed by: ${report.endorsedBy.length ? report.endorsedBy.join(', ') : '(no external endorsement)'}`);
    if (report.emblem) lines.push(`Valid: ${report.emblem.notBefore} .. ${report.emblem.expires} (checked as of ${report.verifiedAt})`);
  }
  lines.push(`Root-key commitment: ${COMMITMENT_TEXT[report.commitment]}`);
  if (report.notEstablished?.length) lines.push(...notEstablishedLines(report.notEstablished));
  if (report.contested?.length) lines.push(...contestedLines(report.contested));
  if (report.errors.length) {
    lines.push('Problems:');
    for (const e of report.errors) lines.push(`  ${e.code}: ${e.message}`);
  }
  return `${lines.join('\n')}\n`;
}

/** What could not be checked, and how to check it, in one sentence; then each level that waits on it. */
function notEstablishedLines(items: NonNullable<VerificationReport['notEstablished']>): string[] {
  const codes = [...new Set(items.flatMap((n) => n.codes))].join(', ') || 'unknown';
  const lines = [
    `Could not check the Certificate Transparency commitment (${codes}); the result above is what was proven without it. ` +
      'Check it again with network access to the CT log list and logs, with --log-list FILE|URL, or offline with --ct-bundle BUNDLE (made by `emblem ct prefetch`).',
  ];
  for (const n of items) lines.push(`  Not established: ${n.level} (${n.codes.join(', ') || 'unknown'}): ${n.message}`);
  return lines;
}

/** A MULTIPLE_EMBLEMS set whose emblems, taken alone, include a valid chain. */
export function contestedLines(candidates: ContestedCandidate[]): string[] {
  const lines = ['Contested: the set holds more than one valid emblem, so it is INVALID as the spec requires; taken alone, these emblems verify:'];
  for (const c of candidates) {
    lines.push(`  ${c.result.join(' + ')}${c.commitment === 'unavailable' ? ' (commitment could not be checked)' : ''}: emblem ${c.emblem.kid} by ${c.issuer ?? '(no issuer)'}` +
      `${c.endorsedBy.length ? `, endorsed by ${c.endorsedBy.join(', ')}` : ''}`);
    lines.push(`    Chain: ${c.emblem.chain.join(' -> ')}`);
    lines.push(`    Marks as protected: ${c.protected.join(', ')}`);
  }
  return lines;
}
