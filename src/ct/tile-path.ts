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
  const m = /^tile\/(data|[0-9]|[1-5][0-9]|6[0-3])\/((?:x[0-9]{3}\/)*[0-9]{3})(?:\.p\/([0-9]{1,3}))?$/.exec(path);
  if (!m) return null;
  const groups = m[2]!.split('/').map((g) => g.replace(/^x/, ''));
  // Canonical form only: no leading zero groups ("x000/005" is not a path for 5).
  if (groups.length > 1 && groups[0] === '000') return null;
  if (groups.length > 6) return null;
  const index = groups.reduce((acc, g) => acc * 1000 + Number(g), 0);
  const width = m[3] === undefined ? TILE_WIDTH : Number(m[3]);
  if (m[3] !== undefined && (!/^[1-9][0-9]*$/.test(m[3]) || width < 1 || width >= TILE_WIDTH)) return null;
  return { level: m[1] === 'data' ? 'data' : Number(m[1]), index, width };
}

/** Width of tile `index` at a level that has `count` nodes: full (256) or the partial remainder. */
export function tileWidth(count: number, index: number): number {
  return Math.min(TILE_WIDTH, count - index * TILE_WIDTH);
}
