// btfkit's check service. Deno Deploy / `deno serve` / Workers-style runtimes
// use the default export ({ fetch }), configured from the environment:
//   BTFKIT_KERNELS_DIR   directory of kernel BTF (see fs.ts for the layouts)
//   BTFKIT_MAX_BODY      body limit in bytes (default 64 MiB)
//   BTFKIT_TIME_BUDGET_MS  per-request budget (default 20000)
// Programs build their own with createCheckService({ kernels: {...} }), and
// Node serves either with http.createServer(toNodeListener(service)).

import { createCheckService, type CheckService } from "./handler.js";
import { KERNEL_NAME, type KernelSource } from "./kernels.js";

export { createCheckService, KernelStore } from "./handler.js";
export type { CheckService, ServiceOptions, Report, Result } from "./handler.js";
export { toNodeListener } from "./node.js";

/**
 * Kernels from a directory (Node and Deno). node:fs is loaded only here, so
 * the module itself also runs where there is no file system.
 */
export async function kernelsFromDir(dir: string): Promise<Map<string, KernelSource>> {
  return (await import("./fs.js")).kernelsFromDir(dir, KERNEL_NAME);
}
export { checkModule, CHECKER } from "./report.js";
export type { CheckProblem as Problem } from "../check.js";
export type { KernelSource } from "./kernels.js";

function env(name: string): string | undefined {
  const g = globalThis as unknown as { Deno?: { env: { get(n: string): string | undefined } }; process?: { env: Record<string, string | undefined> } };
  try {
    return g.Deno ? g.Deno.env.get(name) : g.process?.env[name];
  } catch {
    return undefined; // no env permission
  }
}

let configured: Promise<CheckService> | null = null;

function fromEnv(): Promise<CheckService> {
  configured ??= (async () => {
    const dir = env("BTFKIT_KERNELS_DIR");
    const kernels = dir ? await kernelsFromDir(dir) : new Map<string, KernelSource>();
    const num = (v: string | undefined) => (v && /^\d+$/.test(v) ? Number(v) : undefined);
    return createCheckService({ kernels, maxBodyBytes: num(env("BTFKIT_MAX_BODY")), timeBudgetMs: num(env("BTFKIT_TIME_BUDGET_MS")) });
  })();
  configured.catch(() => { configured = null; });
  return configured;
}

export default {
  async fetch(request: Request): Promise<Response> {
    return (await fromEnv()).fetch(request);
  },
};
