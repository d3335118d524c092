// The check service in Cloudflare's runtime: `workerd serve
// deploy/workers/workerd.capnp` (what `npm run build` put in dist/workers/)
// on a loopback port, sent real modules and hostile bodies; every answer
// (status, content type, verdict header, body bytes) must equal the Node
// service's answer to the same request, with the worker's limits, and the
// Deno service's (dist/service.js under Deno.serve) where deno runs.
// Measured and printed: process start to first answer, the first check
// (both kernels parsed), warm per-request time (median), and memory while
// checking against two kernels, two ways: the isolate's own figures from
// V8 through workerd's DevTools inspector (Runtime.getHeapUsage: JS heap
// plus ArrayBuffer backing stores, the wasm memory and data modules among
// them: what the 128 MB isolate limit is about), and the growth of the whole
// workerd process's anonymous resident memory (/proc/PID/status RssAnon: an
// upper bound that also holds compiled code, V8's compiler zones and
// allocator slack).
// Skips, saying why, only where the workerd binary cannot run;
// BTFKIT_WORKERD_TEST=require (.ci/run) turns that into a failure.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createServer, connect } from "node:net";
import { createServer as createHttpServer, type Server } from "node:http";
import { createRequire } from "node:module";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { createCheckService, toNodeListener } from "../src/service/index.js";
import { init, loadBtf, distillKo, readElf, wasmMemoryBytes } from "../src/index.js";
import { WORKER_LIMITS } from "../deploy/workers/limits.js";
import { ROOT, FIXTURES, fixture } from "./helpers.js";
import { Inspector } from "./inspector.js";

const REQUIRE = process.env.BTFKIT_WORKERD_TEST === "require";
const DENO = join(ROOT, "node_modules/.bin/deno");
const CONFIG = "deploy/workers/workerd.capnp";
const raw = (rel: string) => new Uint8Array(readFileSync(join(FIXTURES, rel)));

/** The workerd binary of the pinned npm package, or why it cannot run here. */
function workerdBinary(): { bin?: string; why?: string } {
  let bin: string;
  try {
    // The package's main export is the path of its platform's binary (from
    // the optional dependency @cloudflare/workerd-<platform>), whether or
    // not its postinstall script ran.
    bin = (createRequire(import.meta.url)("workerd") as { default: string }).default;
  } catch (e) {
    return { why: `the workerd package is not installed (${(e as Error).message.split("\n")[0]})` };
  }
  const v = spawnSync(bin, ["--version"], { encoding: "utf8", timeout: 20_000 });
  if (v.status !== 0) return { why: `${bin} --version failed: ${(v.error?.message ?? v.stderr ?? "").trim().split("\n")[0] || `exit ${v.status}`}` };
  return { bin };
}

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

/** Resident memory of a process from /proc/PID/status, in KiB (Linux only). */
function procMemory(pid: number): { rssAnon: number; hwm: number } | null {
  try {
    const s = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(s)?.[1]);
    const m = { rssAnon: kb("RssAnon"), hwm: kb("VmHWM") };
    return Number.isFinite(m.rssAnon) && Number.isFinite(m.hwm) ? m : null;
  } catch {
    return null;
  }
}

/**
 * One request, built afresh for each side (bodies and streams are single-use).
 * `over` sends a body over the limit on a raw socket instead: a service may
 * answer 413 and close before the body is all sent, and fetch() then fails
 * with EPIPE instead of returning the answer.
 */
interface Case { what: string; path: string; init?: () => RequestInit; over?: "declared" | "streamed" }

/**
 * POST a body over `max` bytes on a socket: "declared" sends Content-Length
 * max+1 and then only 1 KiB; "streamed" sends chunked 64 KiB pieces until the
 * answer starts (or 2 MiB past the limit). Reads the answer to the close.
 */
function postOver(base: string, path: string, how: "declared" | "streamed", max: number): Promise<Answer> {
  const u = new URL(base);
  return new Promise((ok, fail) => {
    const sock = connect(Number(u.port), u.hostname);
    let got = Buffer.alloc(0);
    let sent = 0;
    const piece = Buffer.alloc(64 << 10, 0x41);
    const pump = () => {
      while (got.length === 0 && sent < max + (2 << 20) && !sock.destroyed) {
        sent += piece.length;
        const more = sock.write(Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from("\r\n")]));
        if (!more) { sock.once("drain", pump); return; }
      }
      if (got.length === 0 && !sock.destroyed) sock.write("0\r\n\r\n");
    };
    sock.on("connect", () => {
      const head = `POST ${path} HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n`;
      if (how === "declared") sock.write(`${head}Content-Length: ${max + 1}\r\n\r\n${"A".repeat(1024)}`);
      else { sock.write(`${head}Transfer-Encoding: chunked\r\n\r\n`); pump(); }
    });
    sock.on("data", (d) => { got = Buffer.concat([got, d]); });
    sock.on("error", () => { /* EPIPE/ECONNRESET once the service stops reading: the answer is what arrived */ });
    sock.on("close", () => {
      try { ok(parseHttpAnswer(got)); } catch (e) { fail(e); }
    });
    // Once the whole answer is in, close from this side.
    sock.on("data", () => { try { parseHttpAnswer(got); sock.destroy(); } catch { /* not complete yet */ } });
  });
}

/** A complete HTTP/1.1 answer (Content-Length or chunked body), or a throw when it is not complete. */
function parseHttpAnswer(b: Buffer): Answer {
  const end = b.indexOf("\r\n\r\n");
  if (end < 0) throw new Error(`no complete answer head in ${b.length} bytes`);
  const lines = b.subarray(0, end).toString("latin1").split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0])?.[1]);
  const h = new Map(lines.slice(1).map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]));
  let rest = b.subarray(end + 4);
  let body: Buffer;
  if (h.has("content-length")) {
    const n = Number(h.get("content-length"));
    if (rest.length < n) throw new Error("answer body incomplete");
    body = rest.subarray(0, n);
  } else if (/chunked/i.test(h.get("transfer-encoding") ?? "")) {
    const parts: Buffer[] = [];
    for (;;) {
      const nl = rest.indexOf("\r\n");
      if (nl < 0) throw new Error("answer chunk incomplete");
      const n = parseInt(rest.subarray(0, nl).toString("latin1"), 16);
      if (n === 0) break;
      if (rest.length < nl + 2 + n + 2) throw new Error("answer chunk incomplete");
      parts.push(rest.subarray(nl + 2, nl + 2 + n));
      rest = rest.subarray(nl + 2 + n + 2);
    }
    body = Buffer.concat(parts);
  } else throw new Error("answer without a length");
  return { status, type: h.get("content-type") ?? null, compatible: h.get("x-btfkit-compatible") ?? null, body: Buffer.from(body) };
}

interface HeapUsage { usedSize: number; totalSize: number; backingStorageSize: number }

interface Answer { status: number; type: string | null; compatible: string | null; body: Buffer }

async function answer(r: Response): Promise<Answer> {
  return { status: r.status, type: r.headers.get("content-type"), compatible: r.headers.get("x-btfkit-compatible"), body: Buffer.from(await r.arrayBuffer()) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const MiB = (kb: number) => (kb / 1024).toFixed(1);

const found = workerdBinary();
if (!found.bin) {
  const msg = `workerd test skipped: ${found.why}`;
  if (REQUIRE) throw new Error(`${msg} (BTFKIT_WORKERD_TEST=require)`);
  console.log(msg);
}

describe.skipIf(!found.bin)("check service under workerd (deploy/workers/workerd.capnp)", () => {
  let proc: ChildProcess;
  let base: string;
  let nodeServer: Server;
  let nodeBase: string;
  let deno: ChildProcess | undefined;
  let denoBase: string | undefined;
  let denoWhy = "";
  let stderr = "";
  let spawnedAt = 0;
  let firstAnswerMs = 0;
  let idle: { rssAnon: number; hwm: number } | null = null;
  let inspector: Inspector;
  let idleHeap: HeapUsage;

  beforeAll(async () => {
    for (const f of ["dist/workers/worker.js", "dist/workers/btfkit.wasm", "dist/workers/kernels/k61-50.btf.gz", "dist/workers/kernels/k61-47.btf.gz"]) {
      if (!existsSync(join(ROOT, f))) throw new Error(`${f} is missing: run npm run build first`);
    }
    // The same service under Node's http (the adapter in src/service/node.ts): same kernels, same limits.
    const node = createCheckService({ kernels: { "k61-50": raw("k61-50/vmlinux.btf.gz"), "k61-47": raw("k61-47/vmlinux.btf.gz") }, ...WORKER_LIMITS });
    nodeServer = createHttpServer(toNodeListener(node));
    await new Promise<void>((ok) => nodeServer.listen(0, "127.0.0.1", ok));
    nodeBase = `http://127.0.0.1:${(nodeServer.address() as { port: number }).port}`;
    // And under Deno, when deno runs here (required under CI, as test/deno.test.ts does).
    denoWhy = !existsSync(DENO) ? `${DENO} not found` : spawnSync(DENO, ["--version"]).status !== 0 ? "deno --version failed" : "";
    if (denoWhy && process.env.CI) throw new Error(`deno is required under CI: ${denoWhy}`);
    if (!denoWhy) {
      deno = spawn(DENO, ["run", "-A", "--no-check", "test/deno/serve-workers-limits.ts"], { cwd: ROOT, env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
      let denoErr = "";
      deno.stderr!.on("data", (d) => { denoErr += d; });
      denoBase = await new Promise<string>((ok, fail) => {
        let out = "";
        deno!.stdout!.on("data", (d) => {
          out += d;
          const m = /\{"port":(\d+)\}/.exec(out);
          if (m) ok(`http://127.0.0.1:${m[1]}`);
        });
        deno!.once("exit", (code) => fail(new Error(`deno exited with ${code}: ${denoErr.slice(-2000)}`)));
      });
    } else console.log(`workerd test: comparing with Node only, not Deno: ${denoWhy}`);
    const port = await freePort();
    const inspectorPort = await freePort();
    base = `http://127.0.0.1:${port}`;
    spawnedAt = performance.now();
    proc = spawn(found.bin!, ["serve", CONFIG, "--socket-addr", `http=127.0.0.1:${port}`, "--inspector-addr", `127.0.0.1:${inspectorPort}`], { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
    proc.stderr!.on("data", (d) => { stderr += d; });
    // Poll until the isolate answers (workerd loads the worker at startup).
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`workerd exited with ${proc.exitCode}: ${stderr.slice(-2000)}`);
      try {
        const r = await fetch(`${base}/kernels`);
        if (r.status === 200) { await r.arrayBuffer(); break; }
      } catch { /* not listening yet */ }
      if (performance.now() - spawnedAt > 60_000) throw new Error(`workerd did not answer within 60 s: ${stderr.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    firstAnswerMs = performance.now() - spawnedAt;
    idle = procMemory(proc.pid!);
    const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json()) as { id: string; webSocketDebuggerUrl: string }[];
    const target = targets.find((t) => t.id === "btfkit-check");
    if (!target) throw new Error(`the inspector lists no btfkit-check isolate: ${JSON.stringify(targets)}`);
    inspector = await Inspector.open(target.webSocketDebuggerUrl);
    idleHeap = await inspector.call("Runtime.getHeapUsage");
  });

  afterAll(async () => {
    inspector?.close();
    if (deno && deno.exitCode === null) deno.kill("SIGTERM");
    if (nodeServer) { nodeServer.closeAllConnections(); nodeServer.close(); }
    if (proc && proc.exitCode === null) {
      const gone = new Promise((ok) => proc.once("exit", ok));
      proc.kill("SIGTERM");
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
      if (proc.exitCode === null) proc.kill("SIGKILL");
    }
  });

  /** Send the case to workerd, the Node service and the Deno service over HTTP; the answers must be equal. */
  async function same(c: Case): Promise<Answer> {
    const ask = async (at: string) => c.over ? postOver(at, c.path, c.over, WORKER_LIMITS.maxBodyBytes) : answer(await fetch(`${at}${c.path}`, c.init?.()));
    const fromWorker = await ask(base);
    const fromNode = await ask(nodeBase);
    if (denoBase) {
      const fromDeno = await ask(denoBase);
      expect({ what: c.what, side: "deno", status: fromDeno.status, type: fromDeno.type, compatible: fromDeno.compatible, body: fromDeno.body.toString("utf8") })
        .toEqual({ what: c.what, side: "deno", status: fromNode.status, type: fromNode.type, compatible: fromNode.compatible, body: fromNode.body.toString("utf8") });
    }
    expect({ what: c.what, status: fromWorker.status, type: fromWorker.type, compatible: fromWorker.compatible, body: fromWorker.body.toString("utf8") })
      .toEqual({ what: c.what, status: fromNode.status, type: fromNode.type, compatible: fromNode.compatible, body: fromNode.body.toString("utf8") });
    expect(fromWorker.body.equals(fromNode.body), `${c.what}: body bytes`).toBe(true);
    return fromWorker;
  }

  const post = (body: Uint8Array | string, headers?: Record<string, string>) => () => ({ method: "POST", body, headers }) as RequestInit;
  const form = (fields: [string, string | [Uint8Array, string]][]) => () => {
    const f = new FormData();
    for (const [k, v] of fields) typeof v === "string" ? f.append(k, v) : f.append(k, new Blob([v[0]]), v[1]);
    return { method: "POST", body: f } as RequestInit;
  };
  const TWO = "kernel=k61-50&kernel=k61-47&built-against=k61-50";

  it("real modules: the same reports as the Node service, and the first check's time", async () => {
    // The first check parses both kernels in the isolate.
    const t = performance.now();
    const first = await same({ what: "tcp_bbr (first check)", path: `/check?${TWO}&name=tcp_bbr`, init: post(raw("k61-50/modules/tcp_bbr.btf.gz")) });
    const firstCheckMs = performance.now() - t;
    expect(first.status).toBe(200);
    const bbr = JSON.parse(first.body.toString());
    expect(bbr.results.map((r: { kernel: string }) => r.kernel)).toEqual(["k61-50", "k61-47"]);
    expect(bbr.results[0].ok).toBe(true);

    const veth = await same({ what: "veth", path: `/check?${TWO}&name=veth`, init: post(raw("k61-50/modules/veth.btf.gz")) });
    expect(JSON.parse(veth.body.toString()).results[0].ok).toBe(true);

    // A distilled .ko (tcp_bbr with .BTF.base, made by the library): no built-against needed.
    await init();
    const koIn = fixture("k61-50/ko/tcp_bbr.ko.gz");
    const mod = await loadBtf(koIn, { base: await loadBtf(fixture("k61-50/vmlinux.btf.gz")) });
    const distilled = distillKo(koIn, mod).bytes;
    expect(readElf(distilled).sections.some((s) => s.name === ".BTF.base")).toBe(true);
    const dk = await same({ what: "distilled tcp_bbr.ko", path: "/check?kernel=k61-50&kernel=k61-47&name=tcp_bbr.ko", init: post(distilled) });
    expect(JSON.parse(dk.body.toString()).results.map((r: { ok: boolean }) => r.ok)).toEqual([true, true]);

    // A module that does not relocate onto 6.1.0-47 (struct device changed size), sent as multipart.
    const zl = await same({ what: "zl10353 multipart", path: "/check", init: form([["module", [raw("k61-50/modules/zl10353.btf.gz"), "zl10353.btf.gz"]], ["kernel", "k61-50"], ["kernel", "k61-47"], ["built-against", "k61-50"]]) });
    expect(zl.compatible).toBe("no");
    const zr = JSON.parse(zl.body.toString()).results;
    expect(zr.map((r: { ok: boolean }) => r.ok)).toEqual([true, false]);
    expect([zr[1].problems[0].type, zr[1].problems[0].reason]).toEqual(["device", "size"]);

    // The worker hands every path to the shared handler: a route that handler
    // gains (the CO-RE resolver's /core) answers here as under Node, with no
    // change to the worker. Until then both say 404 NOT_FOUND.
    await same({ what: "POST /core", path: "/core?kernel=k61-50", init: post(distilled) });
    await same({ what: "GET /", path: "/" });
    await same({ what: "GET /kernels", path: "/kernels" });
    await same({ what: "loop without built-against", path: "/check?kernel=k61-50", init: post(raw("k61-50/modules/loop.btf.gz")) });

    // Warm: kernels parsed, the core compiled; the median of 20 checks against both kernels.
    const times: number[] = [];
    const nodeTimes: number[] = [];
    const body = raw("k61-50/modules/tcp_bbr.btf.gz");
    for (let i = 0; i < 20; i++) {
      let t0 = performance.now();
      const r = await fetch(`${base}/check?${TWO}`, { method: "POST", body });
      await r.arrayBuffer();
      times.push(performance.now() - t0);
      expect(r.status).toBe(200);
      t0 = performance.now();
      await (await fetch(`${nodeBase}/check?${TWO}`, { method: "POST", body })).arrayBuffer();
      nodeTimes.push(performance.now() - t0);
    }
    const warm = procMemory(proc.pid!);
    const heap: HeapUsage = await inspector.call("Runtime.getHeapUsage");
    const isolateBytes = (h: HeapUsage) => h.totalSize + h.backingStorageSize;
    const isolate = `isolate (V8 Runtime.getHeapUsage, JS heap + backing stores) ${(isolateBytes(idleHeap) / 2 ** 20).toFixed(1)} MiB idle -> ` +
      `${(isolateBytes(heap) / 2 ** 20).toFixed(1)} MiB with both kernels (heap ${(heap.totalSize / 2 ** 20).toFixed(1)} MiB, of it ${(heap.usedSize / 2 ** 20).toFixed(1)} used; backing stores ${(heap.backingStorageSize / 2 ** 20).toFixed(1)} MiB): ` +
      `${((isolateBytes(heap) / 2 ** 27) * 100).toFixed(0)}% of 128 MiB`;
    // V8 updates its backing-store count lazily, so bound the isolate without
    // it too: its heap, plus the core's wasm memory as the same core grew it in
    // this process for the same kernels and more (distillKo above: a
    // high-water mark), plus the data modules it embeds.
    const dataModules = raw("k61-50/vmlinux.btf.gz").length + raw("k61-47/vmlinux.btf.gz").length;
    const bound = heap.totalSize + Math.max(heap.backingStorageSize, wasmMemoryBytes() + dataModules);
    const isolateBound = `bound: heap + max(backing stores, core wasm memory ${(wasmMemoryBytes() / 2 ** 20).toFixed(1)} MiB + data modules ${(dataModules / 2 ** 20).toFixed(1)} MiB) = ` +
      `${(bound / 2 ** 20).toFixed(1)} MiB, ${((bound / 2 ** 27) * 100).toFixed(0)}% of 128 MiB`;
    const mem = idle && warm
      ? `workerd RssAnon ${MiB(idle.rssAnon)} MiB idle -> ${MiB(warm.rssAnon)} MiB with both kernels parsed and checked: +${MiB(warm.rssAnon - idle.rssAnon)} MiB ` +
        `(${(((warm.rssAnon - idle.rssAnon) / (128 * 1024)) * 100).toFixed(0)}% of 128 MiB); peak RSS (VmHWM) grew by ${MiB(warm.hwm - idle.hwm)} MiB`
      : "memory: /proc/PID/status not readable here, not measured";
    console.log(
      `workerd: spawn -> first answer ${firstAnswerMs.toFixed(0)} ms; first check (parses k61-50 and k61-47) ${firstCheckMs.toFixed(0)} ms; ` +
        `warm check against 2 kernels: median ${median(times).toFixed(1)} ms over 20 (Node http service: ${median(nodeTimes).toFixed(1)} ms); ${isolate}; ${isolateBound}; ${mem}`,
    );
    // The isolate holds both parsed kernels (wasm memory), their gzipped data
    // modules and the JS heap: it must stay far under the 128 MiB limit.
    expect(wasmMemoryBytes()).toBeGreaterThan(2 * 4 << 20); // two parsed kernels (4.2 MB of BTF each) are in the bound
    expect(bound).toBeLessThan(48 * 2 ** 20);
    if (idle && warm) {
      // Even this upper bound (everything the process added: V8 heap, wasm
      // memory, compiled code, compiler zones, allocator slack) is under 128 MiB.
      expect(warm.rssAnon - idle.rssAnon).toBeLessThan(128 * 1024);
    }
  });

  it("the worker bundle carries no base64 core: the core is the wasm module binding", () => {
    const bundle = readFileSync(join(ROOT, "dist/workers/worker.js"), "utf8");
    const wasm = readFileSync(join(ROOT, "dist/workers/btfkit.wasm"));
    expect(wasm.subarray(0, 4)).toEqual(Buffer.from([0, 0x61, 0x73, 0x6d]));
    expect(bundle.includes(wasm.subarray(0, 96).toString("base64"))).toBe(false);
    expect(bundle.length).toBeLessThan(wasm.length);
    expect(bundle).toMatch(/^import [\w$]+ from '\.\/btfkit\.wasm';$/m);
  });

  it("hostile bodies, names and routes: the same errors as the Node service", async () => {
    const loop = raw("k61-50/modules/loop.btf.gz");
    const bomb = gzipSync(Buffer.alloc(WORKER_LIMITS.maxDecompressedBytes + (8 << 20)));
    expect(bomb.length).toBeLessThan(WORKER_LIMITS.maxBodyBytes);
    const multipartBomb = form([["module", [new Uint8Array(bomb), "bomb.ko.gz"]], ["kernel", "k61-50"]]);
    const cases: Case[] = [
      { what: "not BTF", path: "/check?kernel=k61-50&built-against=k61-50", init: post("definitely not btf") },
      { what: "truncated gzip", path: "/check?kernel=k61-50&built-against=k61-50", init: post(loop.subarray(0, 12)) },
      { what: "truncated BTF", path: "/check?kernel=k61-50&built-against=k61-50", init: post(new Uint8Array([0x9f, 0xeb, 1, 0, 24, 0, 0, 0])) },
      { what: "empty body", path: "/check?kernel=k61-50", init: post(new Uint8Array(0)) },
      { what: "gzip bomb", path: "/check?kernel=k61-50&built-against=k61-50", init: post(new Uint8Array(bomb)) },
      { what: "gzip bomb in multipart", path: "/check", init: multipartBomb },
      { what: "declared body over the limit", path: "/check?kernel=k61-50", over: "declared" },
      { what: "streamed body over the limit", path: "/check?kernel=k61-50", over: "streamed" },
      { what: "bad multipart", path: "/check?kernel=k61-50", init: post("--x\r\nnonsense", { "content-type": "multipart/form-data; boundary=zzz" }) },
      { what: "multipart without boundary", path: "/check?kernel=k61-50", init: post("--zzz\r\n\r\n", { "content-type": "multipart/form-data" }) },
      { what: "multipart without module", path: "/check", init: form([["kernel", "k61-50"]]) },
      { what: "truncated multipart", path: "/check", init: () => ({ method: "POST", body: "--b\r\nContent-Disposition: form-data; name=\"module\"; filename=\"m\"\r\n\r\nabc", headers: { "content-type": "multipart/form-data; boundary=b" } }) },
      { what: "unknown kernel", path: "/check?kernel=k99", init: post(loop) },
      { what: "unknown kernel in multipart", path: "/check", init: form([["module", [loop, "loop"]], ["kernel", "k61-49"]]) },
      ...["../k61-50", "..%2Fk61-50", "%2e%2e%2Fk61-50", "%2Fetc%2Fpasswd", "k61-50%00", ".hidden", "", "__proto__", "constructor", "k61-50%2F..%2F..%2Fetc%2Fpasswd", "a".repeat(129)]
        .map((k) => ({ what: `kernel name ${JSON.stringify(k)}`, path: `/check?kernel=${k}`, init: post(loop) })),
      { what: "traversal in built-against", path: "/check?kernel=k61-50&built-against=..%2Fk61-47", init: post(loop) },
      { what: "traversal in multipart kernel", path: "/check", init: form([["module", [loop, "loop"]], ["kernel", "../../etc/passwd"]]) },
      { what: "no kernel", path: "/check", init: post(loop) },
      { what: "too many kernels", path: `/check?${Array.from({ length: WORKER_LIMITS.maxKernelsPerRequest + 1 }, () => "kernel=k61-50").join("&")}`, init: post(loop) },
      { what: "GET /check", path: "/check" },
      { what: "POST /kernels", path: "/kernels", init: post("x") },
      { what: "unknown route", path: "/etc/passwd" },
      { what: "encoded traversal route", path: "/%2e%2e/check" },
      { what: "NUL in route", path: "/check%00", init: post(loop) },
    ];
    const seen = new Map<string, number>();
    for (const c of cases) {
      const a = await same(c);
      const code = a.status === 200 ? "200" : `${a.status}:${JSON.parse(a.body.toString()).error.code}`;
      seen.set(code, (seen.get(code) ?? 0) + 1);
    }
    // The hostile cases were refused for what they are, not all for one reason.
    expect(seen.get("413:TOO_LARGE")).toBe(4);
    expect(seen.get("400:BAD_MULTIPART")).toBeGreaterThanOrEqual(2);
    expect(seen.get("400:BAD_KERNEL_NAME")).toBeGreaterThanOrEqual(10);
    expect(seen.has("200")).toBe(false);
    // The isolate is still serving afterwards.
    expect((await fetch(`${base}/kernels`)).status).toBe(200);
    console.log(`workerd: ${cases.length} hostile requests answered byte-for-byte as the Node service${denoBase ? " and the Deno service" : ""}: ${[...seen].map(([k, n]) => `${k} x${n}`).join(", ")}`);
  });
});
