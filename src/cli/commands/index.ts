import type { Command } from 'commander';
import { registerCheck } from './check.js';
import { registerDns } from './dns.js';
import { registerKeygen } from './keygen.js';
import { registerKey } from './key.js';
import { registerKid } from './kid.js';
import { registerSign } from './sign.js';
import { registerVerify } from './verify.js';
import { registerCt } from './ct.js';
import { registerScan } from './scan.js';
import { registerWorker } from './worker.js';
import { registerOrg } from './org.js';
import { registerInspect } from './inspect.js';
import { registerAuthority } from './authority.js';
import { registerTrust } from './trust.js';
import { registerServe } from './serve.js';
import { registerObserve } from './observe.js';
import { registerEvidence } from './evidence.js';

/** Each command lives in its own file and registers itself here. */
export type RegisterCommand = (program: Command) => void;

const registrations: RegisterCommand[] = [];
registrations.push(registerKeygen);
registrations.push(registerKey);
registrations.push(registerKid);
registrations.push(registerSign);
registrations.push(registerVerify);
registrations.push(registerDns);
registrations.push(registerCheck);
registrations.push(registerCt);
registrations.push(registerScan);
registrations.push(registerWorker);
registrations.push(registerOrg);
registrations.push(registerInspect);
registrations.push(registerAuthority);
registrations.push(registerTrust);
registrations.push(registerServe);
registrations.push(registerObserve);
registrations.push(registerEvidence);

export function allCommands(): RegisterCommand[] {
  return registrations;
}
