import { EmblemError } from '../core/errors.js';

/** Deepest nesting walked; ADEM CWTs nest 4-5 levels (tag, tag, array, bstr-wrapped maps are opaque). */
const MAX_DEPTH = 16;

function malformed(why: string): EmblemError {
  return new EmblemError('DNS_RDATA_INVALID', `IHLE RDATA is not one well-formed CBOR item: ${why}`);
}

/**
 * Returns the offset just past the CBOR item that starts at `offset` (RFC 8949 well-formedness only: lengths,
 * nesting, indefinite-length breaks). No values are decoded, so hostile RDATA costs at most one linear pass.
 */
export function skipCborItem(b: Uint8Array, offset: number, depth = 0): number {
  if (depth > MAX_DEPTH) throw malformed('nested too deeply');
  if (offset >= b.length) throw malformed('truncated');
  const initial = b[offset]!;
  const major = initial >> 5;
  const info = initial & 0x1f;
  let o = offset + 1;
  let arg: number;
  if (info < 24) arg = info;
  else if (info === 24 || info === 25 || info === 26 || info === 27) {
    const n = 1 << (info - 24);
    if (o + n > b.length) throw malformed('truncated argument');
    arg = 0;
    for (let i = 0; i < n; i++) arg = arg * 256 + b[o + i]!;
    o += n;
  } else if (info === 31) {
    if (major === 0 || major === 1 || major === 6) throw malformed('indefinite length on an integer or tag');
    if (major === 7) throw malformed('unexpected break');
    // Indefinite length: items until the 0xff break.
    while (true) {
      if (o >= b.length) throw malformed('missing break');
      if (b[o] === 0xff) return o + 1;
      if ((major === 2 || major === 3) && b[o]! >> 5 !== major) throw malformed('bad chunk in indefinite string');
      o = skipCborItem(b, o, depth + 1);
      if (major === 5) o = skipCborItem(b, o, depth + 1);
    }
  } else throw malformed('reserved additional information');

  switch (major) {
    case 0:
    case 1:
      return o;
    case 2:
    case 3:
      if (arg > b.length - o) throw malformed('string runs past the end');
      return o + arg;
    case 4:
      if (arg > b.length - o) throw malformed('array longer than the data');
      for (let i = 0; i < arg; i++) o = skipCborItem(b, o, depth + 1);
      return o;
    case 5:
      if (arg * 2 > b.length - o) throw malformed('map longer than the data');
      for (let i = 0; i < arg * 2; i++) o = skipCborItem(b, o, depth + 1);
      return o;
    case 6:
      return skipCborItem(b, o, depth + 1);
    default:
      return o; // simple values and floats: argument already consumed
  }
}

/** DNS-02: IHLE RDATA is exactly one CBOR item filling RDLENGTH; trailing bytes are an error. */
export function assertSingleCborItem(rdata: Uint8Array): void {
  if (rdata.length === 0) throw malformed('empty');
  const end = skipCborItem(rdata, 0);
  if (end !== rdata.length) throw malformed(`${rdata.length - end} trailing byte(s)`);
}

/** What one IHLE record carries: a token (tag 61 and/or tag 18 COSE_Sign1) or a bare COSE_Key (a map). */
export function classifyIhleItem(rdata: Uint8Array): 'cwt' | 'cose-key' {
  assertSingleCborItem(rdata);
  const first = rdata[0]!;
  if (first === 0xd2 || (first === 0xd8 && (rdata[1] === 61 || rdata[1] === 18))) return 'cwt';
  if (first >> 5 === 5) return 'cose-key';
  if (first >> 5 === 4) return 'cwt'; // untagged COSE_Sign1 array: let the core reject or accept it
  throw malformed('neither a CWT (tag 61/18) nor a COSE_Key (map)');
}
