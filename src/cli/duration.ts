import { UsageError } from './exit.js';

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800, y: 31_536_000 };

/** "30d", "12h", "90m", "3600s", "3600" (seconds), "1y" (365 days) -> seconds. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d{1,10})([smhdwy]?)$/.exec(text.trim());
  if (!m) throw new UsageError(`${flag} expects a duration such as 30d, 12h, 90m or 3600s, got ${JSON.stringify(text)}`);
  const seconds = Number(m[1]) * UNITS[m[2] || 's']!;
  if (seconds <= 0) throw new UsageError(`${flag} must be positive`);
  return seconds;
}

/** ISO-8601 time (or "now") -> Date. */
export function parseTime(text: string, flag: string): Date {
  if (text === 'now') return new Date();
  const date = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(date.getTime())) {
    throw new UsageError(`${flag} expects an ISO-8601 time such as 2026-06-17T00:10:00Z, got ${JSON.stringify(text)}`);
  }
  return date;
}
