import { maybeGunzip } from './gunzip-node.js';
import { fetchHttp, type HttpClient } from './http.js';
import { verifyDigitallySigned } from './signature.js';
import { StaticCtReader, TileCache, type TiledLogEndpoint } from './static-ct-reader.js';

export { TileCache, type ProvenTileEntry, type TiledLogEndpoint } from './static-ct-reader.js';

/** The static-ct-api monitoring client for Node: checkpoint signatures with node:crypto, tiles inflated with node:zlib. */
export class StaticCtClient extends StaticCtReader {
  constructor(log: TiledLogEndpoint, http: HttpClient = fetchHttp, cache: TileCache = new TileCache()) {
    super(log, http, cache, { verify: verifyDigitallySigned, gunzip: maybeGunzip });
  }
}
