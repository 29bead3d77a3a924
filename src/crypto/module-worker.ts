import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts a worker thread running `script`, a URL of a module next to its caller given without extension. Built code
 * loads the .js file; when the caller runs from source under tsx (tests, `npm run bench`), the thread registers tsx's
 * loader first, because loader hooks of the main thread do not reach worker threads.
 */
export function startModuleWorker(callerUrl: string, script: string, options: WorkerOptions = {}): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(`${script}.js`, callerUrl), options);
  const url = new URL(`${script}.ts`, callerUrl).href;
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
