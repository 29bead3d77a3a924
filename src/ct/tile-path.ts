/**
 * C2SP tlog-tiles paths as used by static-ct-api: `tile/<L>/<N>[.p/<W>]` and `tile/data/<N>[.p/<W>]`. N is
 * written in 3-digit groups, every group but the last prefixed with "x" (1234067 -> x001/x234/067).
 */
export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 256;

export function encodeTileIndex(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`bad tile index ${n}`);
  const groups: string[] = [];
  let v = n;
  do {
    groups.unshift(String(v % 1000).padStart(3, '0'));
    v = Math.floor(v / 1000);
  } while (v > 0);
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

/** `level` is a number for hash tiles, 'data' for data tiles; width < 256 makes a partial tile path. */
export function tilePath(level: number | 'data', index: number, width = TILE_WIDTH): string {
  if (!(width >= 1 && width <= TILE_WIDTH)) throw new RangeError(`bad tile width ${width}`);
  return `tile/${level}/${encodeTileIndex(index)}${width < TILE_WIDTH ? `.p/${width}` : ''}`;
}

export interface TileAddress {
  level: number | 'data';
  index: number;
  width: number;
}

/** Parses a tile path (the local log's router); null for anything that is not a canonical tile path. */
export function parseTilePath(path: string): TileAddress | null {
  const m = /^tile\/(data|[0-9]|[1-5][0-9]|6[0-3])\/(.*)$/.exec(path);
  if (!m) return null;
  const at = parseTileIndexPath(m[2]!);
  return at && { level: m[1] === 'data' ? 'data' : Number(m[1]), ...at };
}

/**
 * The `<N>[.p/<W>]` part of a tile path, canonical form only (shared with the evidence log's tile/entries paths);
 * null for anything else. Indexes above 2^53 are refused rather than rounded.
 */
export function parseTileIndexPath(text: string): { index: number; width: number } | null {
  const m = /^((?:x[0-9]{3}\/){0,5}[0-9]{3})(?:\.p\/([0-9]{1,3}))?$/.exec(text);
  if (!m) return null;
  const groups = m[1]!.split('/').map((g) => g.replace(/^x/, ''));
  // Canonical form only: no leading zero groups ("x000/005" is not a path for 5).
  if (groups.length > 1 && groups[0] === '000') return null;
  const index = groups.reduce((acc, g) => acc * 1000 + Number(g), 0);
  if (!Number.isSafeInteger(index)) return null;
  const width = m[2] === undefined ? TILE_WIDTH : Number(m[2]);
  if (m[2] !== undefined && (!/^[1-9][0-9]*$/.test(m[2]) || width < 1 || width >= TILE_WIDTH)) return null;
  return { index, width };
}

/** Width of tile `index` at a level that has `count` nodes: full (256) or the partial remainder. */
export function tileWidth(count: number, index: number): number {
  return Math.min(TILE_WIDTH, count - index * TILE_WIDTH);
}
