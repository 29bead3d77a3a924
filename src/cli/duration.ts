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
  const ymd = /^(\d{4})-(\d{2})-(\d{2})/.exec(text);
  if (!ymd || Number.isNaN(date.getTime())) {
    throw new UsageError(`${flag} expects an ISO-8601 time such as 2026-06-17T00:10:00Z, got ${JSON.stringify(text)}`);
  }
  // Date rolls an impossible day over into the next month (02-30 becomes 03-02): refuse it instead.
  const [year, month, day] = [Number(ymd[1]), Number(ymd[2]), Number(ymd[3])];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    throw new UsageError(`${flag}: ${ymd[0]} is not a date${month >= 1 && month <= 12 ? ` (that month has ${daysInMonth(year, month)} days)` : ''}`);
  }
  return date;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}
