// check-scale [DIR] [--jobs N]: the at-scale check, every module of Debian's
// 6.1.0-50-amd64 package (4,022 .ko) against 5 kernels = 20,110 pairs
// (libbpf's in-process way: 30.8 s here). DIR is what
// scripts/fetch-scale-corpus.sh produces (default $BTFKIT_SCALE_DIR or
// ~/.cache/btfkit/scale): modules/*.ko and kernels/*.btf, k61-50 the kernel
// the modules were built against.
//
// Each iteration is the whole job as a user runs it: `node dist/cli.js check
// ... --jobs N --json` (default N = 2, both cores), so reading the .ko files,
// parsing every kernel once per worker, distilling, relocating, the plain
// verdicts and the JSON are all timed, and nothing carries over between
// iterations (a new process each time). The op's wasm memory figures are the
// harness's idle instance, not the job's.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { ROOT } from "../lib.mjs";

const KERNELS = ["k61-50", "k61-47", "k61-50-cloud", "k61-50-rt", "k61-53"];
const BUILT = "k61-50";

function defaultDir() {
  return process.env.BTFKIT_SCALE_DIR ? resolve(process.env.BTFKIT_SCALE_DIR) : join(homedir(), ".cache/btfkit/scale");
}

/** The corpus's files, or why it is not usable. */
function scan(dir) {
  const mdir = join(dir, "modules");
  if (!existsSync(mdir)) return { absent: `no scale corpus at ${dir} (run scripts/fetch-scale-corpus.sh, or set BTFKIT_SCALE_DIR)` };
  const modules = readdirSync(mdir).filter((f) => f.endsWith(".ko")).sort().map((f) => join(mdir, f));
  const kernels = KERNELS.map((k) => join(dir, "kernels", `${k}.btf`));
  const missing = kernels.filter((k) => !existsSync(k));
  if (missing.length || modules.length === 0) return { absent: `incomplete scale corpus at ${dir}: ${missing.length ? `missing ${missing.join(", ")}` : "no modules"} (run scripts/fetch-scale-corpus.sh)` };
  return { modules, kernels, built: join(dir, "kernels", `${BUILT}.btf`) };
}

export default {
  name: "check-scale",
  usage: "check-scale [DIR] [--jobs N]",
  options: { jobs: "number" },
  positionals: [0, 1],
  order: 65,
  suite() {
    const s = scan(defaultDir());
    if (s.absent) {
      process.stderr.write(`check-scale: skipped: ${s.absent}\n`);
      return [];
    }
    // About 5 s a run: a few iterations, no warmup beyond the first run.
    return [["--iters", "3", "--warmup", "0"]];
  },
  async setup(_lib, positionals, opts) {
    const dir = positionals[0] ? resolve(positionals[0]) : defaultDir();
    const s = scan(dir);
    if (s.absent) throw new Error(`check-scale: ${s.absent}`);
    const cli = join(ROOT, "dist/cli.js");
    if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first`);
    const jobs = opts.jobs ?? 2;
    const args = [cli, "check", ...s.modules, "--built-against", s.built, ...s.kernels.flatMap((k) => ["--kernel", k]), "--json", "--jobs", String(jobs)];
    const inputBytes = [...s.modules, ...s.kernels].reduce((n, f) => n + statSync(f).size, 0);
    return { args, jobs, dir, pairs: s.modules.length * s.kernels.length, label: `${s.modules.length} modules x ${s.kernels.length} kernels, --jobs ${jobs}`, inputBytes };
  },
  run(s) {
    const r = spawnSync(process.execPath, s.args, { stdio: ["ignore", "pipe", "pipe"], maxBuffer: 1 << 30 });
    // 0: every pair relocates, 1: some do not (the expected answer here); anything else is a failure.
    if (r.status !== 0 && r.status !== 1) throw new Error(`check-scale: btfkit check exited ${r.status ?? r.signal}: ${r.stderr.toString().trim().split("\n").pop()}`);
    return { bytes: r.stdout.length };
  },
  release() {},
  describe: (s) => ({ pairs: s.pairs, jobs: s.jobs, dir: s.dir }),
  teardown() {},
};
