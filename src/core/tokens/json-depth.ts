import { EmblemError } from '../errors.js';
import { Limits } from '../limits.js';

/** Rejects values nested deeper than the limit; iterative, so hostile nesting cannot exhaust the stack. */
export function assertNestingDepth(value: unknown, what: string): void {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null || v instanceof Uint8Array) continue;
    if (depth > Limits.maxNestingDepth) throw new EmblemError('LIMIT_EXCEEDED', `${what} nested deeper than ${Limits.maxNestingDepth}`);
    const children = v instanceof Map ? [...v.keys(), ...v.values()] : Array.isArray(v) ? v : Object.values(v);
    for (const c of children) stack.push([c, depth + 1]);
  }
}
