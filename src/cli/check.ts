// btfkit check MODULE... --kernel VMLINUX... [--built-against VMLINUX] [--json] [--strict] [--jobs N]
// For each module x kernel pair: will the module's BTF relocate onto that
// kernel, and exactly what is wrong when it will not. Exit 0 when every pair
// relocates, 1 when any does not, 2 on bad input. --jobs N (default: the
// number of CPUs) spreads the modules over N worker threads (check-worker.ts);
// the report is the same as with --jobs 1, which is also the way wherever
// worker threads are not available.

import { VerbSpec, parseArgs, multi, str } from "./args.js";
import { out } from "./io.js";
import { BtfError } from "../errors.js";
import { Checker, CheckReport, KernelInput, ReportBuilder } from "../check.js";
import { loadKernels, loadModule, checkInWorkers, workerSupport } from "./check-worker.js";

export const spec: VerbSpec = {
  usage: "btfkit check MODULE... --kernel VMLINUX... [--built-against VMLINUX] [--json] [--strict] [--jobs N]",
  summary: "will each module's BTF relocate onto each kernel, and why not",
  options: { kernel: "multi", "built-against": "string", json: "bool", strict: "bool", validate: "string", jobs: "string" },
  minPositionals: 1,
};

export async function run(argv: string[]): Promise<number> {
  const { positionals, opts } = parseArgs(argv, spec);
  const kernelPaths = multi(opts.kernel);
  if (kernelPaths.length === 0) throw new BtfError("USAGE", `check needs at least one --kernel\nusage: ${spec.usage}`);
  const jobsOpt = str(opts.jobs);
  if (jobsOpt !== undefined && !/^[1-9][0-9]*$/.test(jobsOpt)) throw new BtfError("USAGE", `--jobs takes a positive integer, not '${jobsOpt}'\nusage: ${spec.usage}`);
  const builtPath = str(opts["built-against"]);
  const pairs = positionals.length * kernelPaths.length;
  const progress = pairs > 12;
  // A terminal gets one line redrawn at most every 100 ms; a log file (CI) a
  // line per tenth of the work, not thousands of carriage returns.
  const tty = !!(process.stderr as { isTTY?: boolean }).isTTY;
  let lastDraw = 0;
  let lastTenth = 0;
  const showProgress = (modulesDone: number) => {
    if (!progress) return;
    const done = modulesDone * kernelPaths.length;
    if (tty) {
      const now = Date.now();
      if (now - lastDraw < 100 && done !== pairs) return;
      lastDraw = now;
      process.stderr.write(`check: ${done}/${pairs} pairs\r`);
    } else {
      const tenth = Math.floor((done * 10) / pairs);
      if (tenth <= lastTenth) return;
      lastTenth = tenth;
      process.stderr.write(`check: ${done}/${pairs} pairs\n`);
    }
  };
  // Worker threads where there are some and more than one module (each worker parses the kernels again).
  const support = positionals.length > 1 && jobsOpt !== "1" ? await workerSupport() : undefined;
  const jobs = Math.min(positionals.length, jobsOpt !== undefined ? Number(jobsOpt) : support?.cpus ?? 1);
  let builder: ReportBuilder | undefined;
  if (support && jobs > 1) {
    builder = await checkInWorkers(positionals, { kernels: kernelPaths, builtAgainst: builtPath, strict: !!opts.strict }, jobs, showProgress);
  }
  let report: CheckReport;
  if (builder) {
    report = builder.finish();
  } else {
    const cache = new Map<string, KernelInput>();
    const builtAgainst = builtPath ? (await loadKernels([builtPath], cache))[0] : undefined;
    const kernels = await loadKernels(kernelPaths, cache);
    const checker = new Checker(kernels, { builtAgainst, strict: !!opts.strict });
    let done = 0;
    for (const path of positionals) {
      const m = await loadModule(path);
      try {
        checker.checkModule(m);
      } finally {
        if (m.distilled) { m.distilled.split.free(); m.distilled.base.free(); }
      }
      showProgress(++done);
    }
    report = checker.finish();
  }
  if (progress && tty) process.stderr.write("\n");
  if (opts.json) out(JSON.stringify(report, null, 1) + "\n");
  else out(renderText(report, positionals, kernelPaths));
  return report.results.every((r) => r.ok) ? 0 : 1;
}

function short(path: string): string {
  const base = path.split("/").pop() ?? path;
  return base.replace(/\.(btf|ko)(\.(gz|xz|zst))?$/, "");
}

/** The matrix (modules x kernels), then details per failing module. */
export function renderText(r: CheckReport, modules: string[], kernels: string[]): string {
  const lines: string[] = [];
  const byPair = new Map(r.results.map((x) => [`${x.module}\0${x.kernel}`, x]));
  const kHead = kernels.map((k, i) => `K${i + 1}`);
  const width = Math.max(6, ...modules.map((m) => short(m).length));
  lines.push("kernels:");
  kernels.forEach((k, i) => lines.push(`  K${i + 1} = ${k}`));
  lines.push("");
  lines.push(`${"module".padEnd(width)}  ${kHead.map((h) => h.padEnd(4)).join(" ")}`);
  for (const m of modules) {
    const marks = kernels.map((k) => {
      const x = byPair.get(`${m}\0${k}`);
      if (!x) return "?";
      if (!x.ok) return "FAIL";
      return x.problems.length ? "warn" : "ok";
    });
    lines.push(`${short(m).padEnd(width)}  ${marks.map((s) => s.padEnd(4)).join(" ")}`);
  }
  const ok = r.results.filter((x) => x.ok).length;
  lines.push("");
  lines.push(`${ok}/${r.results.length} pairs relocate`);
  for (const x of r.results) {
    if (x.ok && !x.problems.length && !(x.plain && x.plain.verdict !== "exact")) continue;
    const probs = x.problems.slice(0, 12).map((p) => {
      let s = `    ${p.severity === "warning" ? "warning" : "error"}: ${p.kind.toLowerCase()} ${p.type} [${p.distilledId}]: ${p.reason}`;
      if (p.expected !== undefined || p.found !== undefined) s += ` (expected ${p.expected ?? "?"}, found ${p.found ?? "?"})`;
      if (p.candidates) s += ` candidates [${p.candidates.join(", ")}]`;
      if (p.path) s += ` at ${p.path}`;
      return s;
    });
    if (x.problems.length > 12) probs.push(`    ... ${x.problems.length - 12} more`);
    if (!x.problems.length && x.ok && x.plain?.verdict === "exact") continue;
    lines.push("");
    lines.push(`${short(x.module)} on ${x.kernel}: ${x.ok ? "relocates" : "does not relocate"}`);
    lines.push(...probs);
    if (x.plain && x.plain.verdict !== "exact") lines.push(`    as built (without .BTF.base): ${x.plain.verdict === "dropped" ? "the kernel drops its BTF" : "the kernel publishes wrong types"}: ${x.plain.detail}`);
  }
  if (r.disagreements.length) {
    lines.push("");
    lines.push("modules disagree about these types (built against different kernels):");
    for (const d of r.disagreements.slice(0, 50)) {
      lines.push(`  ${d.kind.toLowerCase()} ${d.type}: ${Object.entries(d.sizes).map(([s, ms]) => `${s} bytes in ${ms.map(short).join(", ")}`).join("; ")}`);
    }
  }
  return lines.join("\n") + "\n";
}
