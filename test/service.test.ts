// The check service (src/service/) over Node's http on 127.0.0.1: reports,
// multipart, malformed and oversized bodies, kernel names, limits, caching.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { createServer, request as httpRequest, type Server } from "node:http";
import { mkdtempSync, mkdirSync, copyFileSync, rmSync, writeFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { readFileSync } from "node:fs";
import { createCheckService, toNodeListener, kernelsFromDir, type CheckService } from "../src/service/index.js";
import { FIXTURES, fixture, cli, HAS_CORPUS, CORPUS, GOLDEN } from "./helpers.js";
import { init, coreTsvLine, CORE_TSV_HEADER, type CoreReport } from "../src/index.js";

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

// POST /core: the CO-RE report of `btfkit core --json`, from the same
// function, on kernels configured from a folder; a kernel folder laid out
// like /sys/kernel/btf (vmlinux + one file per module) gives its modules.
describe("core service: POST /core", () => {
  const core = (rel: string) => fixture(`core/${rel}`);
  let dir: string;
  let url: string;
  let server: Server;

  beforeAll(async () => {
    await init();
    dir = mkdtempSync(join(tmpdir(), "btfkit-core-kernels-"));
    mkdirSync(join(dir, "k1"));
    writeFileSync(join(dir, "k1/vmlinux"), core("kernels/k1.btf.gz"));
    writeFileSync(join(dir, "k1/mod_a"), core("kernels/mod_a.btf.gz"));
    writeFileSync(join(dir, "k1/mod_b"), core("kernels/mod_b.btf.gz"));
    writeFileSync(join(dir, "k2.btf"), core("kernels/k2.btf.gz"));
    // The corpus layout: vmlinux.btf.gz and a modules/ folder.
    mkdirSync(join(dir, "k1c/modules"), { recursive: true });
    copyFileSync(join(FIXTURES, "core/kernels/k1.btf.gz"), join(dir, "k1c/vmlinux.btf.gz"));
    copyFileSync(join(FIXTURES, "core/kernels/mod_b.btf.gz"), join(dir, "k1c/modules/mod_b.btf.gz"));
    copyFileSync(join(FIXTURES, "core/kernels/mod_a.btf.gz"), join(dir, "k1c/modules/mod_a.btf.gz"));
    const kernels = await kernelsFromDir(dir);
    expect([...kernels.keys()]).toEqual(["k1", "k1c", "k2"]);
    ({ url, server } = await listen(createCheckService({ kernels, maxBodyBytes: 1 << 20, maxDecompressedBytes: 4 << 20 })));
  });
  afterAll(async () => {
    await stop(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers the CLI's --json report, byte for byte, with modules from the kernel folder", async () => {
    writeFileSync(join(dir, "prog.o"), core("objs/prog.o.gz"));
    const r = await fetch(`${url}/core?kernel=k1&kernel=k2&name=prog.o`, { method: "POST", body: core("objs/prog.o.gz") });
    expect(r.status).toBe(200);
    const text = await r.text();
    const cliOut = cli(["core", join(dir, "prog.o"), "--kernel", join(dir, "k1"), "--kernel", join(dir, "k2.btf"), "--json"]);
    expect(cliOut.code).toBe(1); // prog.o has records libbpf refuses on k1
    // The CLI names kernels by path; everything else is the same text.
    const cliText = cliOut.stdout.toString().split(JSON.stringify(join(dir, "k1"))).join('"k1"').split(JSON.stringify(join(dir, "k2.btf"))).join('"k2"');
    expect(text).toBe(cliText);
    const j = JSON.parse(text);
    expect(j.results.map((x: { kernel: string; modulesSearched: boolean }) => [x.kernel, x.modulesSearched])).toEqual([["k1", true], ["k2", false]]);
    expect(r.headers.get("x-btfkit-loads")).toBe("no");
    // Records against module types name their module, as in libbpf's own answer.
    const want = new TextDecoder().decode(core("expected/k1+mod_a+mod_b/prog.o.tsv")).trim().split("\n").slice(1);
    const recs = j.results[0].records as Array<{ targBtf: string | null; status: string }>;
    expect(recs.length).toBe(want.length);
    expect(recs.map((x) => x.targBtf ?? "-")).toEqual(want.map((l) => l.split("\t")[12]));
    expect(recs.map((x) => x.targBtf).filter((b) => b === "mod_a" || b === "mod_b").length).toBeGreaterThan(0);
    // The corpus layout gives the same modules in the same (name) order.
    const c = await (await fetch(`${url}/core?kernel=k1c&name=prog.o`, { method: "POST", body: core("objs/prog.o.gz") })).json();
    expect(c.results[0].records).toEqual(j.results[0].records);
  });

  it("multipart, a gzip'd object, and a real libbpf-tools object that loads", async () => {
    const form = new FormData();
    form.append("object", new Blob([gzipSync(core("corpus/biopattern.bpf.o.gz"))]), "biopattern.bpf.o.gz");
    form.append("kernel", "k2");
    const r = await fetch(`${url}/core`, { method: "POST", body: form });
    expect(r.status).toBe(200);
    const j = await r.json();
    expect(j.results[0].object).toBe("biopattern.bpf.o.gz");
    expect(j.results[0].records.length).toBeGreaterThan(0);
    // Poisoned but not refused: loads, unless strict=1 (the CLI's --strict).
    const body = core("corpus/biolatency.bpf.o.gz");
    const plain = await fetch(`${url}/core?kernel=k2`, { method: "POST", body });
    const pj = await plain.json();
    expect([pj.results[0].ok, pj.results[0].clean]).toEqual([true, false]);
    expect(plain.headers.get("x-btfkit-loads")).toBe("yes");
    const strict = await fetch(`${url}/core?kernel=k2&strict=1`, { method: "POST", body });
    expect(strict.headers.get("x-btfkit-loads")).toBe("no");
    expect(await strict.text()).toBe(JSON.stringify(pj, null, 1) + "\n");
  });

  it("bad objects 400 with their code, limits 413, kernel names 400/404, methods 405", async () => {
    const post = async (q: string, body: BodyInit) => {
      const r = await fetch(`${url}/core?${q}`, { method: "POST", body });
      return [r.status, (await r.json()).error?.code];
    };
    expect(await post("kernel=k1", "junk junk junk")).toEqual([400, "BAD_MAGIC"]);
    expect(await post("kernel=k1", core("kernels/k2.btf.gz"))).toEqual([400, "BAD_ELF"]); // raw BTF, not an object
    const bad = core("objs/prog-bad.o.gz");
    const truncated = bad.subarray(0, 200);
    const [st, code] = await post("kernel=k1", truncated);
    expect(st).toBe(400);
    expect(typeof code).toBe("string");
    expect(await post("kernel=k1", new Uint8Array(2 << 20))).toEqual([413, "TOO_LARGE"]);
    expect(await post("kernel=k1", gzipSync(new Uint8Array(8 << 20)))).toEqual([413, "TOO_LARGE"]);
    expect(await post("kernel=nope", core("objs/prog.o.gz"))).toEqual([404, "UNKNOWN_KERNEL"]);
    expect(await post("kernel=..%2Fk1", core("objs/prog.o.gz"))).toEqual([400, "BAD_KERNEL_NAME"]);
    expect(await post("", core("objs/prog.o.gz"))).toEqual([400, "USAGE"]);
    expect((await fetch(`${url}/core`)).status).toBe(405);
    const slow = createCheckService({ kernels: { k: async () => { await new Promise((r) => setTimeout(r, 30)); return core("kernels/k1.btf.gz"); } }, timeBudgetMs: 5 });
    const s = await listen(slow);
    try {
      const r = await fetch(`${s.url}/core?kernel=k`, { method: "POST", body: core("objs/prog.o.gz") });
      expect([r.status, (await r.json()).error.code]).toEqual([503, "TIME_BUDGET"]);
    } finally {
      await stop(s.server);
    }
    console.log("core service: CLI-equal report, modules from folders (sysfs and corpus layouts), multipart, bad objects, limits, names, budget");
  });

  it("the shared corpus through POST /core: every record of every object equals libbpf's golden line", async () => {
    if (!HAS_CORPUS) {
      console.log(`core service corpus: not run, ${CORPUS} is absent (a fresh clone); the vendored cases above still ran`);
      return;
    }
    // ../shared/corpus as the service's kernel folder: k61-50 and k61-47 with their modules/, k61-50-cloud alone.
    const svc = createCheckService({ kernels: await kernelsFromDir(CORPUS) });
    const objs = readdirSync(join(CORPUS, "bpf/libbpf-tools")).filter((f) => f.endsWith(".bpf.o")).sort();
    const kernels = ["k61-50", "k61-47", "k61-50-cloud"];
    let lines = 0;
    for (const o of objs) {
      const r = await svc.fetch(new Request(`http://127.0.0.1/core?${kernels.map((k) => `kernel=${k}`).join("&")}&name=${o}`, { method: "POST", body: readFileSync(join(CORPUS, "bpf/libbpf-tools", o)) }));
      expect(r.status, o).toBe(200);
      const j = (await r.json()) as { results: CoreReport[] };
      j.results.forEach((res, i) => {
        const got = [CORE_TSV_HEADER, ...res.records.map(coreTsvLine)].join("\n") + "\n";
        expect(got, `${o} on ${kernels[i]}`).toBe(readFileSync(join(GOLDEN, "core", kernels[i], `${o}.tsv`), "utf8"));
        lines += res.records.length;
      });
    }
    expect(objs.length).toBe(116);
    console.log(`core service corpus: ${objs.length} objects x ${kernels.length} kernels, ${lines} records equal libbpf's golden lines`);
  }, 120_000);
});
