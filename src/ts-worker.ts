/**
 * A worker thread running one of the project's TypeScript modules. The project runs its sources
 * through tsx (no build step), and a worker does not inherit the loader: tsx is registered inside
 * the worker before the module is imported.
 */
import { Worker, type WorkerOptions } from "node:worker_threads";

export function startTsWorker(moduleUrl: string, options: Omit<WorkerOptions, "eval"> = {}): Worker {
  const boot = `import("tsx/esm/api").then((m) => { m.register(); return import(${JSON.stringify(moduleUrl)}); })`;
  return new Worker(boot, { ...options, eval: true });
}
