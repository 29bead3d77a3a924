import { isFailure, type VerificationReport } from '../core/verify/report.js';

const COMMITMENT_TEXT: Record<VerificationReport['commitment'], string> = {
  verified: 'verified in Certificate Transparency',
  skipped: 'NOT checked (--skip-commitment-check): organisational and endorsed levels rest on unverified root keys',
  failed: 'FAILED',
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
  if (report.errors.length) {
    lines.push('Problems:');
    for (const e of report.errors) lines.push(`  ${e.code}: ${e.message}`);
  }
  return `${lines.join('\n')}\n`;
}
