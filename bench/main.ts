import { suites } from './suites.js';

const only = process.argv.slice(2);
for (const load of suites) {
  const suite = await load();
  if (only.length && !only.some((o) => suite.name.includes(o))) continue;
  console.log(`\n## ${suite.name}`);
  await suite.run();
}
