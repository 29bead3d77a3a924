import type { Command } from 'commander';
import { registerCheck } from './check.js';
import { registerDns } from './dns.js';
import { registerKeygen } from './keygen.js';
import { registerKid } from './kid.js';
import { registerSign } from './sign.js';
import { registerVerify } from './verify.js';
import { registerCt } from './ct.js';

/** Each command lives in its own file and registers itself here. */
export type RegisterCommand = (program: Command) => void;

const registrations: RegisterCommand[] = [];
registrations.push(registerKeygen);
registrations.push(registerKid);
registrations.push(registerSign);
registrations.push(registerVerify);
registrations.push(registerDns);
registrations.push(registerCheck);
registrations.push(registerCt);

export function allCommands(): RegisterCommand[] {
  return registrations;
}
