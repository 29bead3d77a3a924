import { reportError, type ReportedError } from '../core/errors.js';
import type { DnsRecord, PublishingChannel } from './channels/channel.js';
import { recordKey } from './channels/channel.js';

/** One channel's share of a publishing step. */
export interface ChannelChange {
  channel: PublishingChannel;
  add: DnsRecord[];
  remove: DnsRecord[];
}

export interface PublishFailure {
  /** The channel whose change failed, and why (its code and message name the server or file). */
  channel: string;
  error: ReportedError;
  /** Channels that had been changed in this step and were put back as they were. */
  rolledBack: string[];
  /** Channels that could not be put back (reported loudly: their published state differs from the others'). */
  rollbackFailed: Array<{ channel: string; error: ReportedError }>;
}

/**
 * What undoes a change that succeeded, given what the channel held before it: the records it really added are
 * removed and the records it really removed are added back (records that were already there, or already gone,
 * are left alone).
 */
export function inverseChange(change: { add: DnsRecord[]; remove: DnsRecord[] }, before: DnsRecord[]): { add: DnsRecord[]; remove: DnsRecord[] } {
  const had = new Map(before.map((r) => [recordKey(r), r]));
  const removedKeys = new Set(change.remove.map(recordKey));
  return {
    add: change.remove.filter((r) => had.has(recordKey(r))).map((r) => had.get(recordKey(r))!),
    remove: change.add.filter((r) => !had.has(recordKey(r)) && !removedKeys.has(recordKey(r))),
  };
}

/**
 * Publishes one step to several channels, all or none: the channels are changed one after the other, and when
 * one fails, those already changed in this step are changed back (last first), so every channel keeps serving
 * the state it served before the step. `before` is what each channel held when the step was planned.
 */
export async function publishAllOrNone(changes: ChannelChange[], before: Map<string, DnsRecord[]>): Promise<PublishFailure | null> {
  const done: ChannelChange[] = [];
  for (const change of changes) {
    try {
      await change.channel.apply({ add: change.add, remove: change.remove });
      done.push(change);
    } catch (err) {
      const failure: PublishFailure = { channel: change.channel.id, error: reportError(err), rolledBack: [], rollbackFailed: [] };
      for (const d of done.reverse()) {
        const undo = inverseChange(d, before.get(d.channel.id) ?? []);
        try {
          if (undo.add.length || undo.remove.length) await d.channel.apply(undo);
          failure.rolledBack.push(d.channel.id);
        } catch (e) {
          failure.rollbackFailed.push({ channel: d.channel.id, error: reportError(e) });
        }
      }
      return failure;
    }
  }
  return null;
}

/** One line for logs and state: the failing channel's error, and what was rolled back. */
export function describeFailure(f: PublishFailure): string {
  const parts = [`${f.channel}: ${f.error.code}: ${f.error.message}`];
  if (f.rolledBack.length) parts.push(`rolled back on ${f.rolledBack.join(', ')} (previous records kept)`);
  for (const r of f.rollbackFailed) parts.push(`CHANNEL_ROLLBACK_FAILED on ${r.channel}: ${r.error.code}: ${r.error.message}`);
  return parts.join('; ');
}
