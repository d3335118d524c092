// The check service as a Fetch-API handler ({ fetch(request) }), for Deno
// Deploy, Workers-style runtimes, Deno.serve and (through node.ts) Node's
// http. A request POSTs a module and names kernels from the configured set;
// the answer is the JSON compatibility report.
//
//   POST /check?kernel=A&kernel=B[&built-against=A][&strict=1][&name=loop.ko]   body: the module
//   POST /check   multipart/form-data: "module" (file), "kernel" (one or more), "built-against"
// A module without .BTF.base (plain split BTF, any in-tree module) needs
// built-against: the kernel it was built for, on which it is distilled.
//   POST /core?kernel=A&kernel=B[&name=prog.bpf.o][&strict=1]   body: a BPF object (.bpf.o)
//   POST /core   multipart/form-data: "object" (file), "kernel" (one or more)
// Will the object's CO-RE relocations resolve on each kernel, as libbpf
// decides at load time; the answer is the JSON report of `btfkit core --json`
// (the same function renders both). A kernel configured with modules (a
// folder laid out like /sys/kernel/btf) has them searched when vmlinux lacks
// a type, as libbpf does. Same limits as /check.
//   GET  /kernels  the configured kernel names
//   GET  /         a short description and the limits
//
// Errors are JSON { error: { code, message, offset? } }: 400 bad input (the
// module's error code), 404 unknown kernel or path, 405 method, 413 body over
// the limit, 503 time budget spent.

import { init, BtfError, unwrap, BpfObject, resolveCore, coreNeedsModules, coreReportJson } from "../index.js";
import type { CoreReport, CoreModule } from "../coreRelo.js";
import { KernelStore, KERNEL_NAME, type KernelSource } from "./kernels.js";
import { checkModule, CHECKER, INPUT_ERRORS, type Report, type Result } from "./report.js";

export interface ServiceOptions {
  /** The kernels requests may name. */
  kernels: KernelStore | Record<string, KernelSource> | Map<string, KernelSource>;
  /** Largest request body, in bytes (default 64 MiB). */
  maxBodyBytes?: number;
  /** Cap on the module's decompressed size (default 256 MiB). */
  maxDecompressedBytes?: number;
  /** Time budget per request, in ms (default 20 s). */
  timeBudgetMs?: number;
  /** Most kernels one request may name (default 16). */
  maxKernelsPerRequest?: number;
}

export interface CheckService {
  fetch(request: Request): Promise<Response>;
  readonly kernels: KernelStore;
}

class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly offset?: number) {
    super(message);
  }
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body, null, 2) + "\n", {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", "x-content-type-options": "nosniff", ...headers },
  });
}

function errorResponse(e: unknown): Response {
  if (e instanceof HttpError) return json(e.status, { error: { code: e.code, message: e.message, ...(e.offset !== undefined ? { offset: e.offset } : {}) } });
  if (e instanceof BtfError) {
    const status = e.code === "TOO_LARGE" ? 413 : 400;
    return json(status, { error: { code: e.code, message: e.message, ...(e.offset !== undefined ? { offset: e.offset } : {}) } });
  }
  return json(500, { error: { code: "INTERNAL", message: String((e as Error)?.message ?? e) } });
}

/** The body, read with a running byte count so an oversized one is refused early. */
async function readBody(request: Request, max: number): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > max) throw new HttpError(413, "TOO_LARGE", `body of ${declared} bytes is over the limit of ${max}`);
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > max) {
      await reader.cancel().catch(() => {});
      throw new HttpError(413, "TOO_LARGE", `body is over the limit of ${max} bytes`);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) { out.set(c, o); o += c.length; }
  return out;
}

/**
 * Whether a multipart/form-data body is whole: the type names a boundary and
 * the body ends with its close delimiter (`--boundary--`, then only line ends
 * or blanks, as every client writes it; an epilogue is refused). The
 * runtimes' own parsers disagree on a body cut short: Deno's reads the parts
 * it got, undici's (Node) and workerd's refuse it; checking here first makes
 * the answer the same in all. Looks at the tail only: no scan of the body.
 */
function completeMultipart(type: string, body: Uint8Array): boolean {
  const m = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;"]{1,70}))/i.exec(type);
  if (!m) return false;
  const close = new TextEncoder().encode(`--${m[1] ?? m[2]}--`);
  let end = body.length;
  while (end > 0 && (body[end - 1] === 0x0a || body[end - 1] === 0x0d || body[end - 1] === 0x20 || body[end - 1] === 0x09)) end--;
  if (end < close.length) return false;
  for (let j = 0; j < close.length; j++) if (body[end - close.length + j] !== close[j]) return false;
  return true;
}

interface CheckRequest { module: Uint8Array; moduleName: string; kernels: string[]; builtAgainst?: string; strict: boolean }

/** `field` is the multipart file field: "module" for /check, "object" for /core. */
async function parseCheckRequest(request: Request, url: URL, maxBody: number, field = "module"): Promise<CheckRequest> {
  const body = await readBody(request, maxBody);
  const type = request.headers.get("content-type") ?? "";
  let kernels = url.searchParams.getAll("kernel");
  let moduleName = url.searchParams.get("name") ?? field;
  let builtAgainst = url.searchParams.get("built-against") ?? undefined;
  const strict = url.searchParams.get("strict") === "1" || url.searchParams.get("strict") === "true";
  let module = body;
  if (/^multipart\/form-data/i.test(type)) {
    let form: FormData;
    try {
      if (!completeMultipart(type, body)) throw new Error("no boundary or no close delimiter");
      form = await new Response(body as BodyInit, { headers: { "content-type": type } }).formData();
    } catch {
      // Not the runtime's own message: Node, Deno and workerd word it
      // differently, and the answer must be the same in each of them.
      throw new HttpError(400, "BAD_MULTIPART", "cannot read the multipart body (malformed, truncated or without its boundary)");
    }
    const f = form.get(field);
    if (f === null || typeof f === "string") throw new HttpError(400, "USAGE", `multipart body needs a file field "${field}"`);
    module = new Uint8Array(await f.arrayBuffer());
    if (f.name) moduleName = f.name;
    kernels = kernels.concat(form.getAll("kernel").filter((k): k is string => typeof k === "string"));
    const ba = form.get("built-against");
    if (typeof ba === "string") builtAgainst = ba;
  }
  if (module.length === 0) throw new HttpError(400, "USAGE", `no ${field} in the request body`);
  // Names go into the report only; keep them printable and short.
  moduleName = moduleName.replace(/[^\x20-\x7e]/g, "?").slice(0, 200);
  return { module, moduleName, kernels, builtAgainst, strict };
}

export function createCheckService(opts: ServiceOptions): CheckService {
  const store = opts.kernels instanceof KernelStore ? opts.kernels : new KernelStore(opts.kernels);
  const maxBody = opts.maxBodyBytes ?? 64 << 20;
  const maxDecompressed = opts.maxDecompressedBytes ?? 256 << 20;
  const budget = opts.timeBudgetMs ?? 20_000;
  const maxKernels = opts.maxKernelsPerRequest ?? 16;

  /** A check of the request's time budget, started now. */
  function budgetFrom(t0: number): (what: string) => void {
    return (what: string) => {
      if (Date.now() - t0 > budget) throw new HttpError(503, "TIME_BUDGET", `request took over its ${budget} ms budget (${what})`);
    };
  }

  /** The request's kernel names, deduplicated: each a KERNEL_NAME and configured (else 400 / 404). */
  function kernelNames(requested: string[], extra: string[] = []): string[] {
    if (requested.length === 0) throw new HttpError(400, "USAGE", `name at least one kernel (?kernel=NAME); configured: ${store.names().join(", ")}`);
    if (requested.length > maxKernels) throw new HttpError(400, "USAGE", `at most ${maxKernels} kernels per request`);
    const names = [...new Set(requested)];
    for (const k of [...names, ...extra]) {
      if (!KERNEL_NAME.test(k)) throw new HttpError(400, "BAD_KERNEL_NAME", `${JSON.stringify(k.slice(0, 80))} is not a kernel name`);
      if (!store.has(k)) throw new HttpError(404, "UNKNOWN_KERNEL", `no kernel ${k}; configured: ${store.names().join(", ")}`);
    }
    return names;
  }

  /** A configured kernel's parsed BTF (500 when its file is broken). */
  function loader(spent: (what: string) => void) {
    return async (k: string) => {
      try {
        const btf = await store.get(k);
        spent(`loading kernel ${k}`);
        return { name: k, btf };
      } catch (e) {
        if (e instanceof HttpError) throw e;
        throw new HttpError(500, "KERNEL_UNAVAILABLE", `kernel ${k} could not be loaded: ${e instanceof BtfError ? e.describe() : (e as Error).message}`);
      }
    };
  }

  async function check(request: Request, url: URL): Promise<Response> {
    const spent = budgetFrom(Date.now());
    const req = await parseCheckRequest(request, url, maxBody);
    const names = kernelNames(req.kernels, req.builtAgainst ? [req.builtAgainst] : []);
    spent("reading the body");
    const load = loader(spent);
    const kernels = [];
    for (const k of names) kernels.push(await load(k));
    const builtAgainst = req.builtAgainst ? await load(req.builtAgainst) : undefined;
    let results;
    try {
      results = await checkModule(req.module, req.moduleName, kernels, { maxDecompressed, builtAgainst, strict: req.strict });
    } catch (e) {
      if (e instanceof BtfError && INPUT_ERRORS.has(e.code)) throw new HttpError(e.code === "TOO_LARGE" ? 413 : 400, e.code, e.message, e.offset);
      throw e;
    }
    spent("checking");
    const report: Report = { checker: CHECKER, results };
    return json(200, report, { "x-btfkit-compatible": results.every((r) => r.ok) ? "yes" : "no" });
  }

  async function core(request: Request, url: URL): Promise<Response> {
    const spent = budgetFrom(Date.now());
    const req = await parseCheckRequest(request, url, maxBody, "object");
    const names = kernelNames(req.kernels);
    spent("reading the body");
    const load = loader(spent);
    let obj: BpfObject;
    try {
      // Decompression under the service's cap first; BpfObject.open then sees a plain ELF.
      const u = await unwrap(req.module, { maxSize: maxDecompressed });
      obj = BpfObject.open(u.bytes, req.moduleName);
    } catch (e) {
      if (e instanceof BtfError) throw new HttpError(e.code === "TOO_LARGE" ? 413 : 400, e.code, e.message, e.offset);
      throw e;
    }
    try {
      const reports: CoreReport[] = [];
      for (const k of names) {
        const { btf } = await load(k);
        let modules: CoreModule[] | undefined;
        if (store.hasModules(k) && coreNeedsModules(obj, btf)) {
          try {
            modules = await store.modules(k);
          } catch (e) {
            throw new HttpError(500, "KERNEL_UNAVAILABLE", `modules of kernel ${k} could not be loaded: ${e instanceof BtfError ? e.describe() : (e as Error).message}`);
          }
          spent(`loading the modules of ${k}`);
        }
        try {
          reports.push(resolveCore(obj, btf, { modules, name: req.moduleName, kernelName: k }));
        } catch (e) {
          // The kernels are the service's own and already parsed: what fails here is the object.
          if (e instanceof BtfError) throw new HttpError(400, e.code, e.message, e.offset);
          throw e;
        }
        spent(`resolving on ${k}`);
      }
      return new Response(coreReportJson(reports), {
        status: 200,
        headers: {
          "content-type": "application/json; charset=utf-8", "cache-control": "no-store", "x-content-type-options": "nosniff",
          // As the CLI's exit code: poisoned instructions count against loading only with strict=1.
          "x-btfkit-loads": reports.every((r) => r.ok && (!req.strict || r.clean)) ? "yes" : "no",
        },
      });
    } finally {
      obj.free();
    }
  }

  return {
    kernels: store,
    async fetch(request: Request): Promise<Response> {
      try {
        await init();
        const url = new URL(request.url);
        switch (url.pathname) {
          case "/check":
            if (request.method !== "POST") throw new HttpError(405, "METHOD", "POST a module to /check");
            return await check(request, url);
          case "/core":
            if (request.method !== "POST") throw new HttpError(405, "METHOD", "POST a BPF object to /core");
            return await core(request, url);
          case "/kernels":
            if (request.method !== "GET") throw new HttpError(405, "METHOD", "GET /kernels");
            return json(200, { kernels: store.names() });
          case "/":
            if (request.method !== "GET") throw new HttpError(405, "METHOD", "GET /");
            return json(200, {
              service: "btfkit check",
              checker: CHECKER,
              usage: "POST /check?kernel=NAME[&kernel=NAME2][&name=MODULE] with the module as the body, or multipart fields module (file) and kernel",
              core: "POST /core?kernel=NAME[&kernel=NAME2][&name=OBJECT] with a BPF object (.bpf.o) as the body, or multipart fields object (file) and kernel: the CO-RE report of `btfkit core --json`",
              kernels: store.names(),
              limits: { maxBodyBytes: maxBody, maxDecompressedBytes: maxDecompressed, timeBudgetMs: budget, maxKernelsPerRequest: maxKernels },
            });
          default:
            throw new HttpError(404, "NOT_FOUND", `no route ${url.pathname}`);
        }
      } catch (e) {
        return errorResponse(e);
      }
    },
  };
}

export { KernelStore };
export type { Report, Result };
