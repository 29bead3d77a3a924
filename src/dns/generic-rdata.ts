import { EmblemError } from '../core/errors.js';

/**
 * RFC 3597 §5 generic RDATA presentation: `\# <length> <hex...>`. Zone files carry IHLE records this way
 * (`TYPE65400 \# 612 D83DD284...`), because no DNS server knows the IHLE mnemonic yet. Hex is
 * case-insensitive and may be split by whitespace; GO-CWT writes uppercase, so we do too.
 */
export function formatGenericRdata(rdata: Uint8Array): string {
  if (rdata.length === 0) return '\\# 0';
  return `\\# ${rdata.length} ${Buffer.from(rdata).toString('hex').toUpperCase()}`;
}

/** Parses the tokens after the type: ["\#", "<len>", hex words...]. */
export function parseGenericRdata(tokens: string[]): Buffer {
  if (tokens[0] !== '\\#') throw new EmblemError('DNS_RDATA_INVALID', 'generic RDATA must start with \\#');
  const lenText = tokens[1];
  if (lenText === undefined || !/^\d{1,5}$/.test(lenText) || Number(lenText) > 65535) {
    throw new EmblemError('DNS_RDATA_INVALID', 'generic RDATA length missing or above 65535');
  }
  const len = Number(lenText);
  const hex = tokens.slice(2).join('');
  if (!/^[0-9a-fA-F]*$/.test(hex) || hex.length % 2 !== 0) {
    throw new EmblemError('DNS_RDATA_INVALID', 'generic RDATA is not an even number of hex digits');
  }
  if (hex.length !== len * 2) {
    throw new EmblemError('DNS_RDATA_INVALID', `generic RDATA length ${len} does not match ${hex.length / 2} bytes of hex`);
  }
  return Buffer.from(hex, 'hex');
}

/** IHLE presentation outside zone files (DNS-02 §: hex, case-insensitive, whitespace allowed). */
export function parseHexPresentation(text: string): Buffer {
  const hex = text.replace(/\s+/g, '');
  if (!/^[0-9a-fA-F]*$/.test(hex) || hex.length % 2 !== 0 || hex.length === 0) {
    throw new EmblemError('DNS_RDATA_INVALID', 'expected an even, non-zero number of hex digits');
  }
  return Buffer.from(hex, 'hex');
}
