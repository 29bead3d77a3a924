import { planAnswer, type AuthoritativeData } from './authoritative-data.js';
import { DnsLimits } from './limits.js';
import { parseQuery, Rcode } from './query-message.js';
import { assembleResponse, encodeAnswer, errorResponse, responseLimit, type EncodedAnswer } from './response-message.js';

/** What happened to one incoming message; the server counts these and logs the errors. */
export type ResponseOutcome =
  | { kind: 'answered'; rcode: number; truncated: boolean }
  | { kind: 'error'; rcode: number; reason: string }
  | { kind: 'dropped'; reason: string };

/**
 * Turns one incoming message into one response (or none). Pure apart from a bounded cache of encoded answers,
 * so it is the whole of the server's DNS logic and the transport loops stay thin.
 */
export class AuthoritativeResponder {
  private readonly cache = new Map<string, EncodedAnswer>();

  constructor(
    private readonly data: AuthoritativeData,
    /** EDNS payload we advertise and the most we send over UDP. */
    readonly udpPayload: number = DnsLimits.defaultUdpPayload,
  ) {}

  respond(message: Uint8Array, transport: 'udp' | 'tcp'): { response: Buffer | null; outcome: ResponseOutcome } {
    const parsed = parseQuery(message);
    if (parsed.kind === 'drop') return { response: null, outcome: { kind: 'dropped', reason: parsed.reason } };
    if (parsed.kind === 'error') {
      return {
        response: errorResponse(parsed.id, parsed.flags, parsed.rcode),
        outcome: { kind: 'error', rcode: parsed.rcode, reason: parsed.reason },
      };
    }
    const q = parsed.query;
    const limit = responseLimit(q, transport, this.udpPayload);
    const badVersion = q.edns !== null && q.edns.version !== 0;
    const key = `${q.qname}\u0000${q.qtype}\u0000${q.qclass}\u0000${limit}\u0000${q.edns ? 1 : 0}${badVersion ? 1 : 0}`;
    let body = this.cache.get(key);
    if (!body) {
      const plan = badVersion
        ? { rcode: Rcode.BADVERS, authoritative: false, answer: [], authority: [], additional: [] }
        : planAnswer(this.data, q.qname, q.qtype, q.qclass);
      body = encodeAnswer(plan, q.qname, q.questionEnd - 12, limit, q.edns !== null);
      // Bounded: random names must not grow memory without limit; a full clear is cheap and rare.
      if (this.cache.size >= DnsLimits.maxCachedAnswers) this.cache.clear();
      this.cache.set(key, body);
    }
    const response = assembleResponse(message, q, body, this.udpPayload);
    const rcode = (body.flags & 0xf) | (body.extendedRcode << 4);
    if (rcode === Rcode.FORMERR || rcode === Rcode.BADVERS) {
      return { response, outcome: { kind: 'error', rcode, reason: badVersion ? `EDNS version ${q.edns!.version}` : 'OPT as QTYPE' } };
    }
    return { response, outcome: { kind: 'answered', rcode, truncated: (body.flags & 0x0200) !== 0 } };
  }
}
