import { reportError } from '../core/errors.js';
import { discoverEmblemRecords, lookupAddresses, type DiscoveryOptions } from './discovery.js';
import { toFqdn, type NameKey } from './domain-name.js';
import { decodeEmblemRecords } from './token-sets.js';
import { classifyEmblemRecords, type CheckReport, type VerifySet } from './check-classification.js';

export { classifyEmblemRecords, type CheckStatus, type CheckedTokenSet, type CheckReport, type VerifySet } from './check-classification.js';

/**
 * The whole check of one name: discover records through the resolver, group them into token sets, verify
 * each with the core engine, then ask whether a valid emblem names the queried name (DNS-02 §discovery) or,
 * for JWS-era address assets, one of the name's A/AAAA addresses (looked up through the same resolver).
 */
export async function checkName(name: NameKey, options: DiscoveryOptions, verify: VerifySet): Promise<CheckReport> {
  const target = toFqdn(name).replace(/\.$/, '') || '.';
  let discovered;
  try {
    discovered = await discoverEmblemRecords(name, options);
  } catch (err) {
    return { target, status: 'error', level: null, sets: [], discovery: null, errors: [reportError(err)] };
  }
  const { report: discovery } = discovered;
  if (discovery.rcode === 'NXDOMAIN') return { target, status: 'nxdomain', level: null, sets: [], discovery, errors: [] };

  const decoded = decodeEmblemRecords(discovered.txtValues, discovered.ihleRdatas, `dns:${target}`);
  discovery.records.ademTxt = discovered.txtValues.length - decoded.otherTxt;
  return classifyEmblemRecords(target, decoded, verify, () => lookupAddresses(name, options, discovery), discovery);
}
