import { RESULT_ORDER, type Level, type ResultLevel } from './report.js';

export interface AchievedLevel {
  level: Level;
  trusted: boolean;
}

/**
 * CORE-01 §6 step 5: report the strongest *-TRUSTED level, plus the strongest *-UNTRUSTED level if it is strictly
 * stronger. With no trusted level, the strongest untrusted one alone.
 */
export function combineLevels(achieved: AchievedLevel[]): ResultLevel[] {
  const rank = (r: ResultLevel) => RESULT_ORDER.indexOf(r);
  const best = (candidates: ResultLevel[]) => candidates.reduce<ResultLevel | null>((a, b) => (a === null || rank(b) > rank(a) ? b : a), null);
  const trusted = best(achieved.filter((a) => a.trusted).map((a) => `${a.level}-TRUSTED` as ResultLevel));
  const untrusted = best(achieved.filter((a) => !a.trusted).map((a) => `${a.level}-UNTRUSTED` as ResultLevel));
  const result: ResultLevel[] = [];
  if (trusted) result.push(trusted);
  if (untrusted && (!trusted || rank(untrusted) > rank(trusted))) result.push(untrusted);
  return result;
}
