import { EmblemError } from '../core/errors.js';

/** One lexical token of a master file: raw text with escapes still in place, and whether it was quoted. */
export interface ZoneToken {
  text: string;
  quoted: boolean;
}

/** One logical entry (parentheses joined), RFC 1035 §5.1. `blankOwner` = the line began with whitespace. */
export interface ZoneEntry {
  line: number;
  blankOwner: boolean;
  tokens: ZoneToken[];
}

function syntaxError(line: number, why: string): EmblemError {
  return new EmblemError('ZONE_SYNTAX', `zone file line ${line}: ${why}`);
}

/** Splits master-file text into entries: handles comments, quotes, escapes and ( ) continuation. */
export function tokenizeZone(text: string): ZoneEntry[] {
  const entries: ZoneEntry[] = [];
  let line = 1;
  let i = 0;
  let depth = 0;
  let current: ZoneEntry | null = null;
  let atLineStart = true;
  let entryStartLine = 1;

  const finish = () => {
    if (current && current.tokens.length > 0) entries.push(current);
    current = null;
  };

  while (i < text.length) {
    const c = text[i]!;
    if (atLineStart && depth === 0) {
      finish();
      entryStartLine = line;
      current = { line, blankOwner: c === ' ' || c === '\t', tokens: [] };
      atLineStart = false;
    }
    const entry: ZoneEntry = current ?? { line: entryStartLine, blankOwner: false, tokens: [] };
    current = entry;
    if (c === '\n') {
      line++;
      i++;
      atLineStart = true;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === ';') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (c === '(') {
      depth++;
      i++;
      continue;
    }
    if (c === ')') {
      if (depth === 0) throw syntaxError(line, 'unbalanced ")"');
      depth--;
      i++;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      let raw = '';
      while (true) {
        if (j >= text.length) throw syntaxError(line, 'unterminated quoted string');
        const d = text[j]!;
        if (d === '"') break;
        if (d === '\\') {
          if (j + 1 >= text.length) throw syntaxError(line, 'dangling backslash');
          raw += d + text[j + 1];
          if (text[j + 1] === '\n') line++;
          j += 2;
          continue;
        }
        if (d === '\n') line++;
        raw += d;
        j++;
      }
      entry.tokens.push({ text: raw, quoted: true });
      i = j + 1;
      continue;
    }
    let raw = '';
    while (i < text.length) {
      const d = text[i]!;
      if (d === ' ' || d === '\t' || d === '\r' || d === '\n' || d === ';' || d === '(' || d === ')' || d === '"') break;
      if (d === '\\') {
        if (i + 1 >= text.length) throw syntaxError(line, 'dangling backslash');
        raw += d + text[i + 1];
        i += 2;
        continue;
      }
      raw += d;
      i++;
    }
    entry.tokens.push({ text: raw, quoted: false });
  }
  if (depth !== 0) throw syntaxError(line, 'unbalanced "(" at end of file');
  finish();
  return entries;
}
