/** Shared measuring helpers for the benchmarks. */
export const BENCH_SECONDS = Number(process.env.BENCH_SECONDS ?? 2);

export interface Measurement {
  /** Operations per wall-clock second. */
  perSecond: number;
  /** CPU microseconds (user + system, all threads of this process) per operation. */
  cpuMicros: number;
}

/**
 * Runs `fn` repeatedly for about BENCH_SECONDS (at least `min` times). CPU time is process-wide, so work that
 * WebCrypto hands to libuv's thread pool is counted: that is the honest cost, and it is steadier than wall time
 * when other processes share the machine.
 */
export async function measure(fn: () => Promise<unknown> | unknown, min = 20, seconds = BENCH_SECONDS): Promise<Measurement> {
  for (let i = 0; i < 5; i++) await fn(); // warm-up: JIT, key import cache
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  let n = 0;
  while (n < min || performance.now() - start < seconds * 1000) {
    await fn();
    n++;
  }
  const elapsed = performance.now() - start;
  const cpu = process.cpuUsage(cpu0);
  return { perSecond: (n * 1000) / elapsed, cpuMicros: (cpu.user + cpu.system) / n };
}
