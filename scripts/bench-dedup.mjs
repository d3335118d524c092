#!/usr/bin/env node
// Dedup timing, in-process, on a parsed input (npm run build first):
//   node scripts/bench-dedup.mjs [INPUT] [--runs N] [--cold N]
// INPUT defaults to ../shared/golden/dedup/k61-50-twice/input.btf.gz, else the
// same "vmlinux twice" input built from test/fixtures/k61-50/vmlinux.btf.gz.
// Warm: N dedups in one instance (median wall and CPU ms). Cold: N fresh
// processes, each one instance and one dedup (median wall and CPU ms, and the
// wasm memory high-water mark: memory.buffer.byteLength after the run).
import { readFileSync, existsSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, join, resolve } from "node:path";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? Number(args[i + 1]) : dflt; };
const runs = opt("--runs", 9);
const cold = opt("--cold", 5);
const child = args.includes("--child");
const input = args.find((a, i) => !a.startsWith("--") && !(i > 0 && args[i - 1].startsWith("--")));
const golden = join(ROOT, "../shared/golden/dedup/k61-50-twice/input.btf.gz");

async function instance() {
  const mod = await WebAssembly.compile(readFileSync(join(ROOT, "build/btfkit.wasm")));
  const inst = await WebAssembly.instantiate(mod, { env: { abort() { throw new Error("core aborted"); }, seed: () => 0 } });
  return inst.exports;
}

function load(c) {
  const path = input ?? (existsSync(golden) ? golden : join(ROOT, "test/fixtures/k61-50/vmlinux.btf.gz"));
  let bytes = readFileSync(path);
  if (path.endsWith(".gz")) bytes = gunzipSync(bytes);
  const ptr = c.memAlloc(bytes.length);
  new Uint8Array(c.memory.buffer, ptr, bytes.length).set(bytes);
  let h = c.btfParse(ptr, bytes.length, 1, -1, 0, 0);
  if (h < 0) throw new Error(`cannot parse ${path}`);
  if (!input && !existsSync(golden)) h = c.btfConcat(-1, h, h); // vmlinux twice, as btf__add_btf
  return { h, label: input ?? (existsSync(golden) ? "k61-50-twice (golden input)" : "k61-50 vmlinux twice (built from the fixture)") };
}

function once(c, h) {
  const u0 = process.cpuUsage();
  const t0 = performance.now();
  const o = c.btfDedup(h);
  const wall = performance.now() - t0;
  const u = process.cpuUsage(u0);
  if (o < 0) throw new Error(`dedup failed (code ${c.errCode()})`);
  c.btfFree(o);
  return { wall, cpu: (u.user + u.system) / 1000 };
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };
const fmt = (xs) => `median ${median(xs).toFixed(1)} ms (${xs.map((x) => x.toFixed(0)).join(" ")})`;

if (child) {
  const c = await instance();
  const { h } = load(c);
  const r = once(c, h);
  process.stdout.write(JSON.stringify({ ...r, mem: c.memory.buffer.byteLength }));
} else {
  const c = await instance();
  const { h, label } = load(c);
  const warm = [];
  for (let i = 0; i < runs; i++) warm.push(once(c, h));
  console.log(`input: ${label}`);
  console.log(`warm, ${runs} runs in one instance: wall ${fmt(warm.map((r) => r.wall))}; cpu ${fmt(warm.map((r) => r.cpu))}`);
  const colds = [];
  for (let i = 0; i < cold; i++) {
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), ...args, "--child"], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(r.stderr);
    colds.push(JSON.parse(r.stdout));
  }
  if (colds.length) {
    console.log(`cold, first dedup in ${cold} fresh instances: wall ${fmt(colds.map((r) => r.wall))}; cpu ${fmt(colds.map((r) => r.cpu))}`);
    console.log(`wasm memory after one dedup in a fresh instance: ${(median(colds.map((r) => r.mem)) / 1048576).toFixed(1)} MiB`);
  }
}
