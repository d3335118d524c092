#!/usr/bin/env node
// The fuzz harness: `npm run fuzz -- --cases N --seed S [--time-limit-ms T] [--quiet]`.
// Mutates seed BTF (test/fixtures, or ../shared/corpus when present) with the
// structure-aware mutators of mutators.mjs and runs every entry point on each
// case. Invariants checked per case:
//   - every failure is a BtfError with a code, and never INTERNAL (a trap);
//   - each case finishes in under 1 s;
//   - wasm memory stays bounded (in proportion to the input, capped);
//   - outputs are deterministic (the first target is run twice and compared).
// Findings are printed with the seed and case number that reproduce them;
// fixed ones are kept as regression tests in test/fuzz-regressions.test.ts.
import { readFileSync, existsSync, readdirSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { makeRng, layoutOf, MUTATORS, MUTATOR_NAMES } from "./mutators.mjs";
import { TARGETS } from "./targets.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

export async function loadSeeds() {
  const gz = (p) => new Uint8Array(gunzipSync(readFileSync(p)));
  const F = join(ROOT, "test/fixtures");
  const base = { name: "k61-50", bytes: gz(join(F, "k61-50/vmlinux.btf.gz")) };
  const mods = readdirSync(join(F, "k61-50/modules")).map((f) => ({ name: f.replace(/\.btf\.gz$/, ""), bytes: gz(join(F, "k61-50/modules", f)) }));
  const other = { name: "k61-47", bytes: gz(join(F, "k61-47/vmlinux.btf.gz")) };
  const C = join(ROOT, "../shared/corpus/k61-50/modules");
  if (existsSync(C)) {
    for (const f of readdirSync(C).filter((f) => f.endsWith(".btf")).slice(0, 60)) {
      mods.push({ name: f.slice(0, -4), bytes: new Uint8Array(readFileSync(join(C, f))) });
    }
  }
  return { base, other, mods };
}

export async function fuzz({ cases, seed, timeLimitMs = 1000, quiet = false, api }) {
  const { init, Btf, BtfError } = api;
  await init();
  const seeds = await loadSeeds();
  const base = Btf.parse(seeds.base.bytes);
  const other = Btf.parse(seeds.other.bytes);
  const ctx = { api, base, other };
  const findings = [];
  const slow = [];
  const rng = makeRng(seed);
  const counts = { cases: 0, rejected: 0, accepted: 0, targetRuns: 0 };
  const byCode = {};
  const memCap = (n) => 256 * 1024 * 1024 + 64 * n;
  const t0 = Date.now();
  for (let i = 0; i < cases; i++) {
    const s = seeds.mods[rng.int(seeds.mods.length)];
    const info = layoutOf(s.bytes);
    let bytes = s.bytes;
    const steps = 1 + rng.int(3);
    const applied = [];
    for (let k = 0; k < steps; k++) {
      const m = rng.pick(MUTATOR_NAMES);
      applied.push(m);
      bytes = MUTATORS[m](bytes, rng, info);
    }
    counts.cases++;
    const label = `seed=${seed} case=${i} seedfile=${s.name} mutators=${applied.join("+")}`;
    const started = performance.now();
    let parsed = null;
    try {
      parsed = Btf.parse(bytes, { base });
      counts.accepted++;
    } catch (e) {
      if (!(e instanceof BtfError)) findings.push({ label, what: `parse threw ${e?.constructor?.name}: ${e?.message}` });
      else {
        byCode[e.code] = (byCode[e.code] ?? 0) + 1;
        if (e.code === "INTERNAL") findings.push({ label, what: `parse trapped: ${e.message}` });
      }
      counts.rejected++;
    }
    if (parsed) {
      for (const t of TARGETS) {
        if (!t.available(api)) continue;
        counts.targetRuns++;
        try {
          const out = t.run(ctx, parsed, bytes);
          if (t.deterministic && i % 16 === 0) {
            const again = t.run(ctx, parsed, bytes);
            if (!sameOutput(out, again)) findings.push({ label, what: `${t.name}: output differs between two runs` });
          }
        } catch (e) {
          if (!(e instanceof BtfError)) findings.push({ label, what: `${t.name} threw ${e?.constructor?.name}: ${e?.message}` });
          else if (e.code === "INTERNAL") findings.push({ label, what: `${t.name} trapped: ${e.message}` });
        }
      }
      try { parsed.free(); } catch { /* a reset core already dropped it */ }
    }
    const ms = performance.now() - started;
    // Slow cases are reported apart: timing depends on the machine's load, so
    // the long run judges them, while the CI smoke only prints them.
    if (ms > timeLimitMs) slow.push({ label, what: `case took ${ms.toFixed(0)} ms (limit ${timeLimitMs})` });
    const mem = api.wasmMemoryBytes();
    if (mem > memCap(bytes.length + seeds.base.bytes.length)) findings.push({ label, what: `wasm memory grew to ${mem} bytes` });
    if (!quiet && (i + 1) % 1000 === 0) process.stderr.write(`fuzz: ${i + 1}/${cases} cases, ${findings.length} findings, ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  base.free();
  other.free();
  return { counts, byCode, findings, slow, seconds: (Date.now() - t0) / 1000 };
}

function sameOutput(a, b) {
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  return JSON.stringify(a) === JSON.stringify(b);
}

async function main() {
  const argv = process.argv.slice(2);
  const arg = (name, def) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : def; };
  const cases = Number(arg("--cases", "2000"));
  const seed = Number(arg("--seed", "1"));
  const timeLimitMs = Number(arg("--time-limit-ms", "1000"));
  const api = await import(join(ROOT, "dist/index.js"));
  const r = await fuzz({ cases, seed, timeLimitMs, quiet: argv.includes("--quiet"), api });
  console.log(JSON.stringify({ seed, ...r.counts, seconds: r.seconds, rejectedByCode: r.byCode, findings: r.findings.length, slow: r.slow.length }));
  for (const f of r.findings.slice(0, 50)) console.log(`FINDING ${f.label}: ${f.what}`);
  for (const f of r.slow.slice(0, 20)) console.log(`SLOW ${f.label}: ${f.what}`);
  process.exitCode = r.findings.length || r.slow.length ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
