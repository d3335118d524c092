#!/usr/bin/env node
// The fuzz harness:
//   npm run fuzz -- --cases N --seed S [--family raw,elf,...] [--case K[,K2...]]
//                   [--heavy-every N] [--time-limit-ms T] [--quiet]
// (families: raw, elf, wrapped, check, http, gen, bpf)
// Families (one file each, fuzz/family-*.mjs) mutate their seeds with
// knowledge of the structure (BTF records, ELF section tables, container
// headers, HTTP requests) and drive their entry points; cases go round-robin
// over the selected families (all by default). Case i of seed S draws from
// its own generator, so `--seed S --case i` (with the same --family list)
// replays exactly one case. Invariants checked on every case:
//   - every failure is a BtfError with a code, and never INTERNAL (a trap);
//   - each case finishes in under 1 s;
//   - wasm memory stays bounded (in proportion to the input, capped);
//   - Object.prototype is untouched;
//   - outputs are deterministic (every 16th case of a family runs its outputs twice);
// plus each family's own (see the family files). Findings are printed with
// the seed and case that reproduce them; fixed ones are kept as regression
// tests in test/fuzz-regressions.test.ts.
import { readFileSync, existsSync, readdirSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { makeRng } from "./mutators.mjs";
import { rawFamily } from "./family-raw.mjs";
import { elfFamily } from "./family-elf.mjs";
import { wrappedFamily } from "./family-wrapped.mjs";
import { checkFamily } from "./family-check.mjs";
import { httpFamily } from "./family-http.mjs";
import { genFamily } from "./family-gen.mjs";
import { bpfFamily } from "./family-bpf.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

export const FAMILIES = [rawFamily, elfFamily, wrappedFamily, checkFamily, httpFamily, genFamily, bpfFamily];

export async function loadSeeds() {
  const gz = (p) => new Uint8Array(gunzipSync(readFileSync(p)));
  const F = join(ROOT, "test/fixtures");
  const base = { name: "k61-50", bytes: gz(join(F, "k61-50/vmlinux.btf.gz")) };
  const mods = readdirSync(join(F, "k61-50/modules")).sort().map((f) => ({ name: f.replace(/\.btf\.gz$/, ""), bytes: gz(join(F, "k61-50/modules", f)) }));
  const kos = readdirSync(join(F, "k61-50/ko")).sort().map((f) => ({ name: f.replace(/\.gz$/, ""), bytes: gz(join(F, "k61-50/ko", f)) }));
  const other = { name: "k61-47", bytes: gz(join(F, "k61-47/vmlinux.btf.gz")) };
  // FUZZ_NO_CORPUS=1 runs on the vendored fixtures only, as a fresh clone does.
  const C = process.env.FUZZ_NO_CORPUS ? "/nonexistent" : join(ROOT, "../shared/corpus/k61-50");
  if (existsSync(join(C, "modules"))) {
    for (const f of readdirSync(join(C, "modules")).filter((f) => f.endsWith(".btf")).sort().slice(0, 60)) {
      mods.push({ name: f.slice(0, -4), bytes: new Uint8Array(readFileSync(join(C, "modules", f))) });
    }
  }
  if (existsSync(join(C, "ko"))) {
    for (const f of readdirSync(join(C, "ko")).filter((f) => f.endsWith(".ko")).sort()) {
      if (kos.some((k) => k.name === f)) continue;
      kos.push({ name: f, bytes: new Uint8Array(readFileSync(join(C, "ko", f))) });
    }
  }
  return { base, other, mods, kos };
}

/** The generator of case i: independent of every other case, so one case replays alone. */
export function caseRng(seed, i) {
  const r = makeRng((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(i + 1, 0x85ebca6b) ^ 0x5bd1e995) >>> 0);
  for (let k = 0; k < 8; k++) r.u32();
  return r;
}

function sameOutput(a, b) {
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  return JSON.stringify(a) === JSON.stringify(b);
}

function prototypeSnapshot() {
  const snap = new Map();
  for (const proto of [Object.prototype, Array.prototype, Function.prototype]) {
    for (const k of Reflect.ownKeys(proto)) snap.set(proto, (snap.get(proto) ?? []).concat([[k, Object.getOwnPropertyDescriptor(proto, k)]]));
  }
  return snap;
}

function prototypeChanges(snap) {
  const out = [];
  for (const [proto, entries] of snap) {
    const keys = Reflect.ownKeys(proto);
    if (keys.length !== entries.length) out.push(`${keys.length - entries.length} new keys: ${keys.filter((k) => !entries.some(([e]) => e === k)).map(String).join(",")}`);
    for (const [k, d] of entries) {
      const now = Object.getOwnPropertyDescriptor(proto, k);
      if (!now || now.value !== d.value || now.get !== d.get || now.set !== d.set) out.push(`${String(k)} changed`);
    }
  }
  return out;
}

/**
 * Run `cases` cases over the families named in `families` (all by default).
 * `api` is the btfkit module (dist/index.js, or src/index.ts under vitest),
 * `service` the service module (for the http family).
 */
export async function fuzz({ cases, seed, families, onlyCase, timeLimitMs = 1000, heavyEvery = 1, quiet = false, api, service }) {
  await api.init();
  const seeds = await loadSeeds();
  const base = api.Btf.parse(seeds.base.bytes);
  const other = api.Btf.parse(seeds.other.bytes);
  const ctx = { api, service, base, other, seeds };
  const fams = families ? FAMILIES.filter((f) => families.includes(f.name)) : FAMILIES;
  if (!fams.length) throw new Error(`no family among ${families}; known: ${FAMILIES.map((f) => f.name).join(", ")}`);
  const states = [];
  for (const f of fams) states.push(await f.setup(ctx));
  const findings = [];
  const slow = [];
  const perFamily = Object.fromEntries(fams.map((f) => [f.name, { cases: 0, seconds: 0, outcomes: {} }]));
  const memCap = (n) => 256 * 1024 * 1024 + 64 * n;
  const protoSnap = prototypeSnapshot();
  const t0 = Date.now();
  // onlyCase: one case index or a list of them (replaying the slow ones of a log).
  const order = onlyCase === undefined ? null : [].concat(onlyCase);
  const total = order ? order.length : cases;
  for (let k = 0; k < total; k++) {
    const i = order ? order[k] : k;
    const fi = i % fams.length;
    const fam = fams[fi];
    const rng = caseRng(seed, i);
    let desc = "";
    const label = () => `seed=${seed} case=${i} family=${fam.name}${families ? ` families=${fams.map((f) => f.name).join(",")}` : ""} ${desc}`;
    let muted = false; // while a slow case is replayed for timing
    const finding = (what) => { if (!muted) findings.push({ label: label(), what }); };
    const classify = (what, e) => {
      if (e instanceof api.BtfError && typeof e.code === "string" && e.code) {
        if (e.code === "INTERNAL") finding(`${what} trapped: ${e.message}`);
        return { ok: false, code: e.code };
      }
      finding(`${what} threw ${e?.constructor?.name}: ${e?.message}${e?.stack ? " @ " + String(e.stack).split("\n").slice(1, 3).join(" ").trim() : ""}`);
      return { ok: false, code: "THROW" };
    };
    // Counted within the family, so every family gets its share whatever the number of families.
    const nth = Math.floor(i / fams.length);
    const cs = {
      heavy: nth % heavyEvery === 0,
      checkDeterminism: nth % 16 === 0,
      describe(d) { desc = d; },
      finding,
      same: sameOutput,
      try(what, fn) { try { return { ok: true, value: fn() }; } catch (e) { return classify(what, e); } },
      async tryAsync(what, fn) { try { return { ok: true, value: await fn() }; } catch (e) { return classify(what, e); } },
      must(what, fn) {
        try { return fn(); } catch (e) { finding(`${what} failed on our own output: ${e?.code ?? e?.constructor?.name}: ${e?.message}`); return undefined; }
      },
    };
    const started = performance.now();
    let outcome;
    try {
      outcome = await fam.run(states[fi], rng, cs, ctx);
    } catch (e) {
      finding(`harness: ${e?.constructor?.name}: ${e?.message} ${String(e?.stack ?? "").split("\n").slice(1, 4).join(" ")}`);
      outcome = "HARNESS";
    }
    let ms = performance.now() - started;
    if (ms > timeLimitMs) {
      // Replay once on a fresh generator: a case slow only because the
      // machine was busy (or a GC ran) is fast the second time.
      const again = performance.now();
      muted = true;
      try { await fam.run(states[fi], caseRng(seed, i), { ...cs, checkDeterminism: false }, ctx); } catch { /* reported above */ }
      muted = false;
      ms = Math.min(ms, performance.now() - again);
    }
    const pf = perFamily[fam.name];
    pf.cases++;
    pf.seconds += ms / 1000;
    pf.outcomes[outcome] = (pf.outcomes[outcome] ?? 0) + 1;
    // Slow cases (slow twice) are reported apart: timing depends on the
    // machine's load, so the long run judges them, while the CI smoke only
    // prints them.
    if (ms > timeLimitMs) slow.push({ label: label(), what: `case took ${ms.toFixed(0)} ms (limit ${timeLimitMs})` });
    const mem = api.wasmMemoryBytes();
    if (mem > memCap(seeds.base.bytes.length + seeds.other.bytes.length)) finding(`wasm memory grew to ${mem} bytes`);
    const proto = prototypeChanges(protoSnap);
    if (proto.length) { finding(`prototype pollution: ${proto.join("; ")}`); for (const k of Object.keys(Object.prototype)) delete Object.prototype[k]; }
    if (!quiet && (i + 1) % 1000 === 0) process.stderr.write(`fuzz: ${i + 1}/${cases} cases, ${findings.length} findings, ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  base.free();
  other.free();
  let totalCases = 0;
  for (const f of Object.values(perFamily)) { totalCases += f.cases; f.seconds = Math.round(f.seconds * 10) / 10; }
  return { cases: totalCases, perFamily, findings, slow, seconds: (Date.now() - t0) / 1000 };
}

async function main() {
  const argv = process.argv.slice(2);
  const arg = (name, def) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : def; };
  const cases = Number(arg("--cases", "2000"));
  const seed = Number(arg("--seed", "1"));
  const fam = arg("--family", undefined);
  const onlyCase = arg("--case", undefined);
  const api = await import(join(ROOT, "dist/index.js"));
  const service = await import(join(ROOT, "dist/service.js"));
  const r = await fuzz({
    cases, seed, api, service,
    families: fam ? fam.split(",") : undefined,
    onlyCase: onlyCase !== undefined ? onlyCase.split(",").map(Number) : undefined,
    timeLimitMs: Number(arg("--time-limit-ms", "1000")),
    heavyEvery: Number(arg("--heavy-every", "1")),
    quiet: argv.includes("--quiet"),
  });
  console.log(JSON.stringify({ seed, families: fam ?? "all", cases: r.cases, seconds: r.seconds, findings: r.findings.length, slow: r.slow.length, perFamily: r.perFamily }));
  for (const f of r.findings.slice(0, 50)) console.log(`FINDING ${f.label}: ${f.what}`);
  for (const f of r.slow.slice(0, 20)) console.log(`SLOW ${f.label}: ${f.what}`);
  process.exitCode = r.findings.length || r.slow.length ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
