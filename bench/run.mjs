#!/usr/bin/env node
// btfkit benchmarks against the built bundle (dist/index.js; npm run build first).
//
//   npm run --silent bench -- OP ARGS [--iters N] [--warmup N] [--json]
//   npm run --silent bench                      (default suite, medians)
//
// Each op is one file in bench/ops/ exporting
//   { name, usage, options, positionals: [min, max], order (suite position), suite(root),
//     setup(lib, positionals, opts) -> state   (untimed: read, decompress, parse bases)
//     run(state) -> result                      (timed)
//     release(state, result)                    (untimed, after every iteration)
//     describe(state) -> extra JSON fields      (optional, untimed)
//     teardown(state) }
// Adding distill/relocate/dedup/cdump/check is one file taking the CLI's
// arguments. Rules: run() does exactly the work its name says, the same work
// as the libbpf figure it is compared with; nothing is carried from one
// iteration to the next (release frees each result) unless reuse is the point
// of the op.
//
// Per op, one fresh core instance (its own linear memory):
//   cold_start_ms      base64 decode + compile + instantiate (not in any op timing)
//   wasm_memory_*      linear memory after setup, and after the first run:
//                      memory never shrinks, so the latter is the op's high-water mark;
//                      high_water_per_input_byte divides it by the input bytes the
//                      instance holds (state.residentInputBytes: the base too, for splits)
//   first_ms           that first run, in the fresh instance (includes memory growth)
//   min/median/...     `iters` timed runs after `warmup` untimed ones
import { readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT, freshLibrary, mb, now, stats, suiteRoot, wasmMemoryBytes } from "./lib.mjs";

const COMMON_OPTIONS = { iters: "number", warmup: "number", json: "bool" };

async function loadOps() {
  const dir = join(ROOT, "bench/ops");
  const ops = new Map();
  for (const f of readdirSync(dir).filter((f) => f.endsWith(".mjs")).sort()) {
    const op = (await import(pathToFileURL(join(dir, f)).href)).default;
    ops.set(op.name, op);
  }
  // Suite order: ops say where they belong (parse first), then by name.
  return new Map([...ops].sort(([a, x], [b, y]) => (x.order ?? 100) - (y.order ?? 100) || a.localeCompare(b)));
}

class UsageError extends Error {}

function parseArgs(argv, op) {
  const positionals = [];
  const opts = {};
  const known = { ...COMMON_OPTIONS, ...op.options };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) { positionals.push(a); continue; }
    const eq = a.indexOf("=");
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    const kind = known[name];
    if (!kind) throw new UsageError(`unknown option ${a}`);
    if (kind === "bool") { opts[name] = true; continue; }
    const v = eq >= 0 ? a.slice(eq + 1) : argv[++i];
    if (v === undefined) throw new UsageError(`option ${a} needs a value`);
    if (kind === "number") {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new UsageError(`option ${a} takes a non-negative integer`);
      opts[name] = n;
    } else if (kind === "multi") (opts[name] ??= []).push(v);
    else opts[name] = v;
  }
  const [lo, hi] = op.positionals ?? [0, Infinity];
  if (positionals.length < lo || positionals.length > hi) throw new UsageError("wrong number of arguments");
  return { positionals, opts };
}

/** Run one op with its arguments; returns the JSON record. */
async function bench(op, argv, defaults = {}) {
  const { positionals, opts } = parseArgs(argv, op);
  const iters = opts.iters ?? defaults.iters ?? 50;
  const warmup = opts.warmup ?? defaults.warmup ?? Math.min(20, Math.max(3, Math.ceil(iters / 10)));
  if (iters < 1) throw new UsageError("--iters must be at least 1");

  const { lib, coldStartMs } = await freshLibrary();
  const state = await op.setup(lib, positionals, opts);
  try {
    const memAfterSetup = wasmMemoryBytes(lib);
    let t0 = now();
    let r = op.run(state);
    const firstMs = now() - t0;
    const highWater = wasmMemoryBytes(lib);
    op.release(state, r);

    for (let i = 0; i < warmup; i++) op.release(state, op.run(state));
    const samples = new Float64Array(iters);
    for (let i = 0; i < iters; i++) {
      t0 = now();
      r = op.run(state);
      samples[i] = now() - t0;
      op.release(state, r);
    }
    const st = stats(samples);
    const resident = state.residentInputBytes ?? state.inputBytes;
    const round = (x) => Math.round(x * 1000) / 1000;
    return {
      op: op.name,
      args: argv.filter((a) => !["--json"].includes(a)),
      input: state.label ?? positionals[0],
      iters,
      warmup,
      min_ms: round(st.min),
      median_ms: round(st.median),
      mean_ms: round(st.mean),
      p90_ms: round(st.p90),
      max_ms: round(st.max),
      first_ms: round(firstMs),
      cold_start_ms: round(coldStartMs),
      input_bytes: state.inputBytes,
      wasm_memory_after_setup_bytes: memAfterSetup,
      wasm_memory_high_water_bytes: highWater,
      wasm_memory_growth_bytes: highWater - memAfterSetup,
      // Against every input the instance holds (a split op also holds its base).
      high_water_per_input_byte: resident ? round(highWater / resident) : null,
      ...(op.describe ? op.describe(state) : {}),
      node: process.version,
    };
  } finally {
    op.teardown(state);
  }
}

function readable(r) {
  return `${r.op} ${basename(r.input)}: median ${r.median_ms.toFixed(3)} ms ` +
    `(min ${r.min_ms.toFixed(3)}, p90 ${r.p90_ms.toFixed(3)}, first ${r.first_ms.toFixed(3)}; ${r.iters} iters)` +
    `${r.types !== undefined ? `, ${r.types} types` : ""}; input ${mb(r.input_bytes)}; ` +
    `wasm memory ${mb(r.wasm_memory_high_water_bytes)} (${r.high_water_per_input_byte}x the inputs held); cold start ${r.cold_start_ms.toFixed(1)} ms`;
}

function usage(ops) {
  const lines = [...ops.values()].map((o) => `  ${o.usage}`);
  return `usage: npm run --silent bench -- OP ARGS [--iters N] [--warmup N] [--json]\n` +
    `       npm run --silent bench [--iters N] [--json]   (default suite)\nops:\n${lines.join("\n")}\n`;
}

async function main(argv) {
  const ops = await loadOps();
  if (argv[0] === "-h" || argv[0] === "--help") { process.stdout.write(usage(ops)); return 0; }
  if (argv.length === 0 || argv[0].startsWith("--")) {
    // Default suite: every op's suite() on the corpus (or the fixtures).
    const root = suiteRoot();
    const { opts } = parseArgs(argv, { options: {}, positionals: [0, 0] });
    if (!opts.json) process.stdout.write(`default suite on ${root.name} (${root.dir})\n`);
    for (const op of ops.values()) {
      for (const args of op.suite ? op.suite(root) : []) {
        const r = await bench(op, args, { iters: opts.iters ?? 100 });
        process.stdout.write((opts.json ? JSON.stringify(r) : readable(r)) + "\n");
      }
    }
    return 0;
  }
  const op = ops.get(argv[0]);
  if (!op) throw new UsageError(`unknown op '${argv[0]}'`);
  try {
    const r = await bench(op, argv.slice(1));
    process.stdout.write((argv.includes("--json") ? JSON.stringify(r) : readable(r)) + "\n");
  } catch (e) {
    if (e instanceof UsageError) throw new UsageError(`${e.message}\nusage: ${op.usage} [--iters N] [--warmup N] [--json]`);
    throw e;
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    if (e instanceof UsageError) { process.stderr.write(`bench: ${e.message}\n`); process.exit(2); }
    // Bad input or a failed op: the message (BENCH_DEBUG=1 for the stack).
    const msg = e?.describe ? e.describe() : process.env.BENCH_DEBUG ? e?.stack ?? e : e?.message ?? e;
    process.stderr.write(`bench: ${msg}\n`);
    process.exit(1);
  },
);
