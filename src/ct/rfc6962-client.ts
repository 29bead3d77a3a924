import { fetchHttp, type HttpClient } from './http.js';
import { Rfc6962Reader, type Rfc6962LogEndpoint } from './rfc6962-reader.js';
import { verifyDigitallySigned } from './signature.js';

export type { ProofByHash, RawLogEntry, Rfc6962LogEndpoint } from './rfc6962-reader.js';

/** The RFC 6962 read client for Node: tree head signatures checked with node:crypto (OpenSSL). */
export class Rfc6962Client extends Rfc6962Reader {
  constructor(log: Rfc6962LogEndpoint, http: HttpClient = fetchHttp) {
    super(log, http, verifyDigitallySigned);
  }
}
