import { EmblemError, type ReportedError } from '../core/errors.js';
import type { Material } from '../core/material/material.js';
import { parseMaterialText } from '../core/material/parse-text.js';
import { verifyMaterial, type VerifyOptions } from '../core/verify/index.js';
import type { VerificationReport } from '../core/verify/report.js';

/** One input text: a whole-text JSON object is a (possibly pretty-printed) JWK; otherwise one item per line. */
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

/** One input of `emblem verify` (a file, standard input, or an HTTP request body). */
export interface VerifyTextInput {
  text: string;
  /** Shown in reports ("stdin", a file name, "request"). */
  source: string;
  /** How the input is named in the "nothing was read" error ("standard input", a file name). */
  where: string;
}

/**
 * The workflow behind `emblem verify` and `POST /api/verify`: parse every input, refuse an input with nothing in it
 * (USAGE: empty is not an INVALID set), verify the rest as one token set.
 */
export async function verifyTexts(inputs: readonly VerifyTextInput[], options: Omit<VerifyOptions, 'inputErrors'>): Promise<VerificationReport> {
  const material: Material[] = [];
  const inputErrors: ReportedError[] = [];
  for (const input of inputs) {
    const parsed = materialFromText(input.text, input.source);
    material.push(...parsed.material);
    inputErrors.push(...parsed.errors);
  }
  if (material.length === 0 && inputErrors.length === 0) {
    const where = inputs.map((i) => i.where).join(', ');
    throw new EmblemError('USAGE', `nothing was read: ${where} ${inputs.length > 1 ? 'hold' : 'holds'} no token, key or TXT record`);
  }
  return verifyMaterial(material, { ...options, inputErrors });
}
