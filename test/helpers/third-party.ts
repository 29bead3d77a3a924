/**
 * Environment for third-party programs the tests start (NSD, Knot, BIND's tools, Redis, dnsperf, a browser).
 *
 * CI runs the suite a second time under libfaketime (`faketime -f +730d npm test`) to prove that *our* code does
 * not depend on the calendar. libfaketime works by LD_PRELOAD and is inherited by every child process; the
 * programs we merely use as real protocol peers are not under test and some misbehave under it (BIND's
 * named-checkzone hangs), so they get the environment without it.
 */
const FAKETIME_VARIABLES = /^(LD_PRELOAD|FAKETIME.*|FAKE_.*|DONT_FAKE_MONOTONIC|NO_FAKE_.*)$/;

export function thirdPartyEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!FAKETIME_VARIABLES.test(name)) env[name] = value;
  }
  return { ...env, ...extra };
}
