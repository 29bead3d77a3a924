import type { Command } from 'commander';
import { registerKeygen } from './keygen.js';
import { registerKid } from './kid.js';
import { registerSign } from './sign.js';
import { registerVerify } from './verify.js';

/** Each command lives in its own file and registers itself here. */
export type RegisterCommand = (program: Command) => void;

const registrations: RegisterCommand[] = [];
registrations.push(registerKeygen);
registrations.push(registerKid);
registrations.push(registerSign);
registrations.push(registerVerify);

export function allCommands(): RegisterCommand[] {
  return registrations;
}
