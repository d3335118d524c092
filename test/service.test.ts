// The check service (src/service/) over Node's http on 127.0.0.1: reports,
// multipart, malformed and oversized bodies, kernel names, limits, caching.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { createServer, request as httpRequest, type Server } from "node:http";
import { mkdtempSync, mkdirSync, copyFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { readFileSync } from "node:fs";
import { createCheckService, toNodeListener, kernelsFromDir, type CheckService } from "../src/service/index.js";
import { FIXTURES } from "./helpers.js";

const raw = (rel: string) => new Uint8Array(readFileSync(join(FIXTURES, rel)));

async function listen(service: CheckService): Promise<{ url: string; server: Server }> {
  const server = createServer(toNodeListener(service));
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, server };
}

const stop = (s: Server) => new Promise<void>((ok) => { s.closeAllConnections(); s.close(() => ok()); });

/** POST a body without Content-Length (chunked), as a client streaming an upload would. */
function postChunked(url: string, chunks: number, chunkSize: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: "POST", headers: { "content-type": "application/octet-stream" } }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    const buf = Buffer.alloc(chunkSize, 0x41);
    let i = 0;
    const pump = () => {
      while (i < chunks) {
        i++;
        if (!req.write(buf)) { req.once("drain", pump); return; }
      }
      req.end();
    };
    req.on("error", () => {});
    pump();
  });
}

describe("check service (Node http adapter)", () => {
  let url: string;
  let server: Server;
  let service: CheckService;
  let loads = 0;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "btfkit-kernels-"));
    copyFileSync(join(FIXTURES, "k61-50/vmlinux.btf.gz"), join(dir, "k61-50.btf.gz"));
    mkdirSync(join(dir, "k61-47"));
    copyFileSync(join(FIXTURES, "k61-47/vmlinux.btf.gz"), join(dir, "k61-47/vmlinux.btf.gz"));
    const fromDir = await kernelsFromDir(dir);
    expect([...fromDir.keys()].sort()).toEqual(["k61-47", "k61-50"]);
    // Count loads of one kernel, to see that it is parsed once.
    const k50 = fromDir.get("k61-50")!;
    fromDir.set("k61-50", async () => { loads++; return (k50 as () => Promise<Uint8Array>)(); });
    service = createCheckService({ kernels: fromDir, maxBodyBytes: 4 << 20, maxDecompressedBytes: 32 << 20 });
    ({ url, server } = await listen(service));
  });
  afterAll(async () => {
    await stop(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it("describes itself and lists its kernels", async () => {
    const r = await fetch(`${url}/`);
    expect(r.status).toBe(200);
    const j = await r.json();
    expect(j.kernels).toEqual(["k61-47", "k61-50"]);
    expect(j.checker).toBe("relocate");
    expect((await (await fetch(`${url}/kernels`)).json()).kernels).toEqual(["k61-47", "k61-50"]);
  });

  it("checks a raw module body on one kernel: the report schema", async () => {
    const r = await fetch(`${url}/check?kernel=k61-50&built-against=k61-50&name=loop`, { method: "POST", body: raw("k61-50/modules/loop.btf.gz") });
    expect(r.status).toBe(200);
    expect(r.headers.get("x-btfkit-compatible")).toBe("yes");
    const j = await r.json();
    expect(Object.keys(j).sort()).toEqual(["checker", "results"]);
    expect(j.results).toEqual([{ module: "loop", kernel: "k61-50", ok: true, problems: [], plain: { verdict: "exact", detail: "the kernel it was built against" } }]);
    // Without .BTF.base and without built-against there is nothing to distill on: 400.
    const r2 = await fetch(`${url}/check?kernel=k61-50`, { method: "POST", body: raw("k61-50/modules/loop.btf.gz") });
    expect(r2.status).toBe(400);
    expect((await r2.json()).error.code).toBe("USAGE");
  });

  it("multipart with two kernels: one accepts, one refuses with a typed problem", async () => {
    const form = new FormData();
    form.append("module", new Blob([raw("k61-50/modules/zl10353.btf.gz")]), "zl10353.btf.gz");
    form.append("kernel", "k61-50");
    form.append("kernel", "k61-47");
    form.append("built-against", "k61-50");
    const r = await fetch(`${url}/check`, { method: "POST", body: form });
    expect(r.status).toBe(200);
    expect(r.headers.get("x-btfkit-compatible")).toBe("no");
    const j = await r.json();
    expect(j.results.map((x: { kernel: string; ok: boolean }) => [x.kernel, x.ok])).toEqual([["k61-50", true], ["k61-47", false]]);
    const p = j.results[1].problems[0];
    expect(Object.keys(p).sort()).toEqual(["candidates", "distilledId", "expected", "found", "kind", "path", "reason", "severity", "type"]);
    expect([p.type, p.reason, p.expected, p.found]).toEqual(["device", "size", 752, 744]);
    expect(j.results[1].module).toBe("zl10353.btf.gz");
  });

  it("parses each kernel once per instance, also under concurrent requests", async () => {
    const body = raw("k61-50/modules/tcp_bbr.btf.gz");
    const rs = await Promise.all(Array.from({ length: 6 }, () => fetch(`${url}/check?kernel=k61-50&built-against=k61-50`, { method: "POST", body })));
    expect(rs.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(loads).toBe(1);
    expect(service.kernels.loaded()).toContain("k61-50");
  });

  it("malformed bodies: 400 with the error code", async () => {
    const cases: [string, RequestInit, number, string][] = [
      ["not BTF", { method: "POST", body: "definitely not btf" }, 400, "BAD_MAGIC"],
      ["truncated header", { method: "POST", body: raw("k61-50/modules/loop.btf.gz").subarray(0, 12) }, 400, "BAD_COMPRESSED"],
      ["truncated BTF", { method: "POST", body: new Uint8Array([0x9f, 0xeb, 1, 0, 24, 0, 0, 0]) }, 400, "TRUNCATED"],
      ["empty", { method: "POST", body: new Uint8Array(0) }, 400, "USAGE"],
      ["bad multipart", { method: "POST", body: "--x\r\nnonsense", headers: { "content-type": "multipart/form-data; boundary=zzz" } }, 400, "BAD_MULTIPART"],
      // Cut before its close delimiter: refused here, as in workerd (Deno's own parser would read the part).
      ["truncated multipart", { method: "POST", body: '--b\r\nContent-Disposition: form-data; name="module"; filename="m"\r\n\r\nabc', headers: { "content-type": "multipart/form-data; boundary=b" } }, 400, "BAD_MULTIPART"],
    ];
    for (const [what, init, status, code] of cases) {
      const r = await fetch(`${url}/check?kernel=k61-50&built-against=k61-50`, init);
      const j = await r.json();
      expect([what, r.status, j.error?.code]).toEqual([what, status, code]);
    }
    const form = new FormData();
    form.append("kernel", "k61-50");
    const r = await fetch(`${url}/check`, { method: "POST", body: form });
    expect(r.status).toBe(400);
    expect((await r.json()).error.message).toMatch(/"module"/);
  });

  it("oversized bodies: 413, declared or streamed; a decompression bomb: 413", async () => {
    const big = new Uint8Array(5 << 20);
    const r = await fetch(`${url}/check?kernel=k61-50`, { method: "POST", body: big });
    expect(r.status).toBe(413);
    expect((await r.json()).error.code).toBe("TOO_LARGE");
    const streamed = await postChunked(`${url}/check?kernel=k61-50`, 80, 64 << 10);
    expect(streamed.status).toBe(413);
    expect(JSON.parse(streamed.body).error.code).toBe("TOO_LARGE");
    const bomb = gzipSync(Buffer.alloc(40 << 20));
    expect(bomb.length).toBeLessThan(4 << 20);
    const rb = await fetch(`${url}/check?kernel=k61-50`, { method: "POST", body: bomb });
    expect(rb.status).toBe(413);
    // The server is still fine afterwards.
    expect((await fetch(`${url}/kernels`)).status).toBe(200);
  });

  it("kernel names: unknown 404, traversal and junk 400, none 400, too many 400", async () => {
    const body = raw("k61-50/modules/loop.btf.gz");
    const post = (q: string) => fetch(`${url}/check?${q}`, { method: "POST", body });
    let r = await post("kernel=k99");
    expect([r.status, (await r.json()).error.code]).toEqual([404, "UNKNOWN_KERNEL"]);
    for (const bad of ["../k61-50", "..%2Fk61-50", "%2Fetc%2Fpasswd", "k61-50%00", ".hidden", ""]) {
      r = await post(`kernel=${bad}`);
      expect([bad, r.status, (await r.json()).error.code]).toEqual([bad, 400, "BAD_KERNEL_NAME"]);
    }
    r = await post("");
    expect(r.status).toBe(400);
    r = await post(Array.from({ length: 17 }, () => "kernel=k61-50").join("&"));
    expect(r.status).toBe(400);
  });

  it("methods and routes", async () => {
    expect((await fetch(`${url}/check`)).status).toBe(405);
    expect((await fetch(`${url}/kernels`, { method: "POST", body: "x" })).status).toBe(405);
    expect((await fetch(`${url}/etc/passwd`)).status).toBe(404);
  });

  it("time budget: 503 when a request takes longer than allowed", async () => {
    const slow = createCheckService({ kernels: { k: async () => { await new Promise((r) => setTimeout(r, 30)); return raw("k61-50/vmlinux.btf.gz"); } }, timeBudgetMs: 5 });
    const s = await listen(slow);
    try {
      const r = await fetch(`${s.url}/check?kernel=k`, { method: "POST", body: raw("k61-50/modules/loop.btf.gz") });
      expect(r.status).toBe(503);
      expect((await r.json()).error.code).toBe("TIME_BUDGET");
    } finally {
      await stop(s.server);
    }
    console.log("service: report, multipart, caching (1 parse for 7 requests), malformed x7, oversized x3, names x9, routes, time budget: all as specified");
  });
});
