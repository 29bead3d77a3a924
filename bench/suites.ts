/** Each benchmark suite registers here; `npm run bench` runs them all in one process, one after another. */
export interface BenchSuite {
  name: string;
  run(): Promise<void>;
}

export const suites: Array<() => Promise<BenchSuite>> = [
  async () => (await import('./verify.bench.js')).default,
  async () => (await import('./scan.bench.js')).default,
  async () => (await import('./ct.bench.js')).default,
  async () => (await import('./dns.bench.js')).default,
  async () => (await import('./org.bench.js')).default,
  async () => (await import('./authority.bench.js')).default,
  async () => (await import('./web.bench.js')).default,
  async () => (await import('./observe.bench.js')).default,
  async () => (await import('./serve.bench.js')).default,
];
