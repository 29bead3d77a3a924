import { planAnswer, type AnswerPlan, type AnyMode, type AuthoritativeData } from './authoritative-data.js';
import { DnsLimits } from './limits.js';
import { parseQuery, Rcode } from './query-message.js';
import { assembleResponse, encodeAnswer, errorResponse, responseLimit, truncatedBody, type EncodedAnswer } from './response-message.js';
import type { RrlDecision } from './response-rate-limit.js';

/** What happened to one incoming message; the server counts these and logs the errors. */
export type ResponseOutcome =
  | { kind: 'answered'; rcode: number; truncated: boolean }
  | { kind: 'error'; rcode: number; reason: string }
  | { kind: 'dropped'; reason: string }
  /** Response rate limiting: dropped, or sent truncated (slipped) so a real client retries over TCP. */
  | { kind: 'rate-limited'; slipped: boolean };

export interface ResponderOptions {
  /** EDNS payload we advertise and the most we send over UDP. */
  udpPayload?: number;
  anyMode?: AnyMode;
}

/** One cached answer and the RRL class of identical responses it belongs to. */
interface CachedAnswer {
  body: EncodedAnswer;
  rrlClass: string;
}

/**
 * The RRL class of a response (as BIND/NSD group them): positive answers by name and type, NODATA by name,
 * NXDOMAIN by zone (random names must share one budget), errors and refusals together.
 */
function rrlClassOf(plan: AnswerPlan, qname: string, qtype: number): string {
  if (plan.rcode === Rcode.NXDOMAIN) return `nx\u0000${plan.authority[0]?.owner ?? ''}`;
  if (plan.rcode !== Rcode.NOERROR) return 'error';
  if (plan.answer.length === 0) return `nodata\u0000${qname}`;
  return `${qname}\u0000${qtype}`;
}

/**
 * Turns one incoming message into one response (or none). Pure apart from a bounded cache of encoded answers,
 * so it is the whole of the server's DNS logic and the transport loops stay thin.
 */
export class AuthoritativeResponder {
  private readonly cache = new Map<string, CachedAnswer>();
  private data: AuthoritativeData;
  readonly udpPayload: number;
  readonly anyMode: AnyMode;

  constructor(data: AuthoritativeData, options: ResponderOptions | number = {}) {
    const o = typeof options === 'number' ? { udpPayload: options } : options;
    this.data = data;
    this.udpPayload = o.udpPayload ?? DnsLimits.defaultUdpPayload;
    this.anyMode = o.anyMode ?? 'minimal';
  }

  /** The zones served (after a reload, the new ones). */
  get zones(): AuthoritativeData['zones'] {
    return this.data.zones;
  }

  /** Serves `data` from the next query on: one assignment, so every answer comes wholly from old or new data. */
  replaceData(data: AuthoritativeData): void {
    this.data = data;
    this.cache.clear();
  }

  /**
   * `rrl`, for UDP, decides per response class whether the answer is sent, slipped (TC=1, no records) or dropped.
   */
  respond(message: Uint8Array, transport: 'udp' | 'tcp', rrl?: (answerClass: string) => RrlDecision): { response: Buffer | null; outcome: ResponseOutcome } {
    const parsed = parseQuery(message);
    if (parsed.kind === 'drop') return { response: null, outcome: { kind: 'dropped', reason: parsed.reason } };
    if (parsed.kind === 'error') {
      // A header-sized answer, never larger than the query: no amplification, so not rate-limited.
      return {
        response: errorResponse(parsed.id, parsed.flags, parsed.rcode),
        outcome: { kind: 'error', rcode: parsed.rcode, reason: parsed.reason },
      };
    }
    const q = parsed.query;
    const limit = responseLimit(q, transport, this.udpPayload);
    const badVersion = q.edns !== null && q.edns.version !== 0;
    const key = `${q.qname}\u0000${q.qtype}\u0000${q.qclass}\u0000${limit}\u0000${q.edns ? 1 : 0}${badVersion ? 1 : 0}`;
    let cached = this.cache.get(key);
    if (!cached) {
      const plan = badVersion
        ? { rcode: Rcode.BADVERS, authoritative: false, answer: [], authority: [], additional: [] }
        : planAnswer(this.data, q.qname, q.qtype, q.qclass, this.anyMode);
      cached = { body: encodeAnswer(plan, q.qname, q.questionEnd - 12, limit, q.edns !== null), rrlClass: rrlClassOf(plan, q.qname, q.qtype) };
      // Bounded: random names must not grow memory without limit; a full clear is cheap and rare.
      if (this.cache.size >= DnsLimits.maxCachedAnswers) this.cache.clear();
      this.cache.set(key, cached);
    }
    const body = cached.body;
    if (rrl) {
      const decision = rrl(cached.rrlClass);
      if (decision === 'drop') return { response: null, outcome: { kind: 'rate-limited', slipped: false } };
      if (decision === 'slip') {
        return { response: assembleResponse(message, q, truncatedBody(body), this.udpPayload), outcome: { kind: 'rate-limited', slipped: true } };
      }
    }
    const response = assembleResponse(message, q, body, this.udpPayload);
    const rcode = (body.flags & 0xf) | (body.extendedRcode << 4);
    if (rcode === Rcode.FORMERR || rcode === Rcode.BADVERS) {
      return { response, outcome: { kind: 'error', rcode, reason: badVersion ? `EDNS version ${q.edns!.version}` : 'OPT as QTYPE' } };
    }
    return { response, outcome: { kind: 'answered', rcode, truncated: (body.flags & 0x0200) !== 0 } };
  }
}
