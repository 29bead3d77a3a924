import { encodeTileIndex, parseTileIndexPath, TILE_HEIGHT, TILE_WIDTH } from '../ct/tile-path.js';

/**
 * C2SP tlog-tiles paths of the evidence log: hash tiles `tile/<L>/<N>[.p/<W>]` and entry bundles
 * `tile/entries/<N>[.p/<W>]`. The index encoding (3-digit groups, "x" prefix on all but the last) and its
 * canonical parser are shared with the static-ct client (src/ct/tile-path.ts).
 */
export { TILE_HEIGHT, TILE_WIDTH, encodeTileIndex };

/** Hash tile levels 0..63 cover any tree a 64-bit size allows (tlog-tiles). */
export const MAX_TILE_LEVEL = 63;

export interface EvidenceTileAddress {
  /** A hash tile level, or 'entries' for an entry bundle. */
  level: number | 'entries';
  index: number;
  /** 256 for a full tile, 1..255 for a partial one. */
  width: number;
}

export function evidenceTilePath(address: EvidenceTileAddress): string {
  const { level, index, width } = address;
  if (level !== 'entries' && !(Number.isInteger(level) && level >= 0 && level <= MAX_TILE_LEVEL)) throw new RangeError(`bad tile level ${level}`);
  if (!(Number.isInteger(width) && width >= 1 && width <= TILE_WIDTH)) throw new RangeError(`bad tile width ${width}`);
  return `tile/${level}/${encodeTileIndex(index)}${width < TILE_WIDTH ? `.p/${width}` : ''}`;
}

/**
 * Parses a request path below the log's root ("tile/0/x001/234.p/7", "tile/entries/000"); null for anything that
 * is not a canonical tile path. Hostile input (HTTP requests): no normalisation is attempted, so "..", "//",
 * "%2e", leading zeros and the like are simply not tile paths.
 */
export function parseEvidenceTilePath(path: string): EvidenceTileAddress | null {
  if (typeof path !== 'string' || path.length > 128) return null;
  const m = /^tile\/(entries|0|[1-9][0-9]?)\/(.+)$/.exec(path);
  if (!m) return null;
  const level = m[1] === 'entries' ? 'entries' : Number(m[1]);
  if (level !== 'entries' && level > MAX_TILE_LEVEL) return null;
  const at = parseTileIndexPath(m[2]!);
  return at && { level, ...at };
}

/** How many nodes of hash-tile level `level` (tree level 8*level) a tree of `size` leaves has complete. */
export function nodesAtTileLevel(size: number, level: number): number {
  return Math.floor(size / 2 ** (TILE_HEIGHT * level));
}

/** The tiles (full or partial) of a tree of `size` leaves at one tile level, as addresses. */
export function tilesAtLevel(size: number, level: number | 'entries', fromIndex = 0): EvidenceTileAddress[] {
  const count = level === 'entries' ? size : nodesAtTileLevel(size, level);
  const out: EvidenceTileAddress[] = [];
  for (let index = fromIndex; index * TILE_WIDTH < count; index++) out.push({ level, index, width: Math.min(TILE_WIDTH, count - index * TILE_WIDTH) });
  return out;
}
