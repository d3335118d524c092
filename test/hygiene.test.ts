// Web and service hygiene: the built bundles run no code made from
// strings (no eval, no new Function, no string timers), the web page's CSP
// forbids it, and the check service enforces its limits (body size,
// decompressed size, kernels per request, time budget) and is immune to
// prototype keys in query strings and form fields.
import { describe, it, expect, beforeAll } from "vitest";
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { init } from "../src/index.js";
import { createCheckService } from "../src/service/index.js";
// @ts-ignore -- plain ESM helpers shared with the fuzzer
import { gzip, zstdRleBomb, lz4Bomb, xz } from "../fuzz/wrappers.mjs";
import { ROOT, fixture } from "./helpers.js";

beforeAll(async () => { await init(); });

const BUNDLES = ["dist/index.js", "dist/cli.js", "dist/service.js", "dist/service-fs.js", "dist/web/explorer.js"];
const DYNAMIC_CODE: Array<[string, RegExp]> = [
  ["eval(", /(^|[^\w$.])eval\s*\(/],
  ["new Function", /\bnew\s+Function\b/],
  ["Function(string)", /(^|[^\w$.])Function\s*\(\s*["'`]/],
  ["setTimeout(string)", /\bsetTimeout\s*\(\s*["'`]/],
  ["setInterval(string)", /\bsetInterval\s*\(\s*["'`]/],
  ["document.write", /\bdocument\.write(ln)?\s*\(/],
];

describe("bundles", () => {
  it("contain no eval, new Function or string timers", () => {
    let checked = 0;
    for (const b of BUNDLES) {
      const path = join(ROOT, b);
      expect(existsSync(path), `${b} missing: npm run build first (it builds the web page and the service too)`).toBe(true);
      const src = readFileSync(path, "utf8");
      for (const [what, re] of DYNAMIC_CODE) expect(re.test(src), `${b} contains ${what}`).toBe(false);
      checked++;
    }
    expect(checked).toBe(BUNDLES.length);
  });

  it("start a worker only from the source embedded at build time", () => {
    const src = readFileSync(join(ROOT, "dist/web/explorer.js"), "utf8");
    // The explorer's worker is its own bundled source (virtual:explorer-worker), started from a blob: URL;
    // that is the one place script text becomes code, and no input reaches it.
    expect(src.match(/type:\s*"text\/javascript"/g)?.length ?? 0).toBe(1);
    expect(src.match(/new Worker\(/g)?.length ?? 0).toBe(1);
  });

  it("the web page's CSP allows only its own scripts and wasm compilation", () => {
    const html = readFileSync(join(ROOT, "dist/web/index.html"), "utf8");
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1];
    expect(csp).toBeDefined();
    const scriptSrc = /script-src ([^;]+)/.exec(csp!)![1].split(/\s+/);
    expect(scriptSrc.sort()).toEqual(["'self'", "'wasm-unsafe-eval'"]);
    expect(csp).not.toMatch(/'unsafe-eval'|'unsafe-inline'/);
    expect(csp).toMatch(/default-src 'none'/);
  });
});

describe("service limits", () => {
  const kernels = { "k61-50": fixture("k61-50/vmlinux.btf.gz") };
  const module = fixture("k61-50/modules/loop.btf.gz");
  const post = (svc: ReturnType<typeof createCheckService>, q: string, body: BodyInit, headers: Record<string, string> = {}) =>
    svc.fetch(new Request(`http://x/check?${q}`, { method: "POST", body, headers }));
  const errorOf = async (r: Response) => [r.status, (await r.json()).error?.code];

  it("decompressed size: gzip, zstd without a content size, LZ4 and xz bombs are 413", async () => {
    const svc = createCheckService({ kernels, maxDecompressedBytes: 1 << 20 });
    for (const [what, body] of [
      ["gzip", gzip(new Uint8Array(8 << 20))],
      ["zstd RLE", zstdRleBomb(256)],
      ["lz4 match", lz4Bomb(8 << 20)],
      ["xz stored", xz(new Uint8Array(2 << 20))],
    ] as const) {
      expect([what, ...(await errorOf(await post(svc, "kernel=k61-50&built-against=k61-50", body)))]).toEqual([what, 413, "TOO_LARGE"]);
    }
  });

  it("body size counts the whole body, multipart included", async () => {
    const svc = createCheckService({ kernels, maxBodyBytes: 64 << 10 });
    const form = new FormData();
    form.append("module", new Blob([new Uint8Array(100 << 10)]), "m.ko");
    form.append("kernel", "k61-50");
    expect(await errorOf(await svc.fetch(new Request("http://x/check", { method: "POST", body: form })))).toEqual([413, "TOO_LARGE"]);
    expect(await errorOf(await post(svc, "kernel=k61-50", new Uint8Array((64 << 10) + 1)))).toEqual([413, "TOO_LARGE"]);
    // At the limit it is read (and refused for what it is, not for its size).
    expect((await post(svc, "kernel=k61-50", new Uint8Array(64 << 10))).status).toBe(400);
  });

  it("kernels per request follow the configured maximum", async () => {
    const svc = createCheckService({ kernels, maxKernelsPerRequest: 2 });
    expect(await errorOf(await post(svc, "kernel=k61-50&kernel=k61-50&kernel=k61-50&built-against=k61-50", module))).toEqual([400, "USAGE"]);
    expect((await post(svc, "kernel=k61-50&kernel=k61-50&built-against=k61-50", module)).status).toBe(200);
  });

  it("time budget covers the check itself, not only loading", async () => {
    const svc = createCheckService({ kernels, timeBudgetMs: 0 });
    // A budget of 0 ms is spent by the time the check finishes.
    const r = await post(svc, "kernel=k61-50&built-against=k61-50&strict=1", module);
    expect(await errorOf(r)).toEqual([503, "TIME_BUDGET"]);
  });

  it("prototype keys in query strings and form fields change nothing", async () => {
    const svc = createCheckService({ kernels });
    const before = Object.getOwnPropertyNames(Object.prototype).sort().join();
    const queries = [
      "__proto__[polluted]=1&kernel=k61-50&built-against=k61-50",
      "constructor[prototype][polluted]=1&kernel=k61-50&built-against=k61-50",
      "kernel=__proto__", "kernel=constructor", "kernel=toString", "built-against=__proto__&kernel=k61-50",
    ];
    const statuses = [];
    for (const q of queries) statuses.push((await post(svc, q, module)).status);
    expect(statuses).toEqual([200, 200, 400, 404, 404, 400]);
    const form = new FormData();
    form.append("module", new Blob([module]), "__proto__");
    form.append("kernel", "k61-50");
    form.append("built-against", "k61-50");
    form.append("__proto__", '{"polluted":1}');
    form.append("constructor", "1");
    const r = await svc.fetch(new Request("http://x/check", { method: "POST", body: form }));
    expect(r.status).toBe(200);
    expect((await r.json()).results[0].module).toBe("__proto__");
    expect(Object.getOwnPropertyNames(Object.prototype).sort().join()).toBe(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
