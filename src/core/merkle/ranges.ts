/**
 * Which subtree hashes make up RFC 9162 proofs, as half-open leaf ranges [start, end). Pure arithmetic, shared by
 * the in-memory tree (which hashes ranges from stored nodes) and the static-ct tile client (which hashes them
 * from fetched tiles), so both produce exactly the proofs the verifier expects.
 *
 * Indices are JS numbers: CT logs hold < 2^40 entries, far below 2^53, and callers check Number.isSafeInteger.
 */
export interface LeafRange {
  start: number;
  end: number;
}

/** A complete, aligned subtree: 2^level leaves starting at leaf index << level. */
export interface NodePosition {
  level: number;
  index: number;
}

/** Largest power of two strictly smaller than n (n >= 2), the split point k of RFC 9162 §2.1.1. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

export function isPowerOfTwo(n: number): boolean {
  return n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

/** RFC 9162 §2.1.3.1 PATH(m, D[n]), as the ranges whose MTH forms the proof, leaf side first. */
export function inclusionProofRanges(index: number, size: number): LeafRange[] {
  if (!(index >= 0 && index < size)) throw new RangeError(`leaf ${index} is not in a tree of size ${size}`);
  const out: LeafRange[] = [];
  const walk = (m: number, start: number, end: number): void => {
    const n = end - start;
    if (n <= 1) return;
    const k = splitPoint(n);
    if (m < k) {
      walk(m, start, start + k);
      out.push({ start: start + k, end });
    } else {
      walk(m - k, start + k, end);
      out.push({ start, end: start + k });
    }
  };
  walk(index, 0, size);
  return out;
}

/** RFC 9162 §2.1.4.1 PROOF(m, D[n]) = SUBPROOF(m, D[n], true), as ranges. */
export function consistencyProofRanges(oldSize: number, newSize: number): LeafRange[] {
  if (!(oldSize >= 0 && oldSize <= newSize)) throw new RangeError(`no consistency proof from ${oldSize} to ${newSize}`);
  if (oldSize === 0 || oldSize === newSize) return [];
  const out: LeafRange[] = [];
  const sub = (m: number, start: number, end: number, complete: boolean): void => {
    const n = end - start;
    if (m === n) {
      if (!complete) out.push({ start, end });
      return;
    }
    const k = splitPoint(n);
    if (m <= k) {
      sub(m, start, start + k, complete);
      out.push({ start: start + k, end });
    } else {
      sub(m - k, start + k, end, false);
      out.push({ start, end: start + k });
    }
  };
  sub(oldSize, 0, newSize, true);
  return out;
}

/**
 * The complete aligned subtrees whose hashes combine into MTH(D[start:end]), largest first. Every range that
 * occurs in a proof starts at a multiple of the largest power of two not exceeding its length, so the
 * decomposition is the binary expansion of its length; MTH = H(c1, H(c2, ... H(c_{k-1}, c_k))).
 */
export function rangeNodes(range: LeafRange): NodePosition[] {
  const out: NodePosition[] = [];
  let start = range.start;
  let remaining = range.end - range.start;
  if (remaining <= 0) throw new RangeError('empty range');
  for (let level = Math.floor(Math.log2(remaining)) + 1; level >= 0; level--) {
    const width = 2 ** level;
    if (width <= remaining) {
      if (start % width !== 0) throw new RangeError(`range [${range.start}, ${range.end}) is not aligned`);
      out.push({ level, index: start / width });
      start += width;
      remaining -= width;
    }
  }
  return out;
}
