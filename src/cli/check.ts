// btfkit check MODULE... --kernel VMLINUX... [--built-against VMLINUX] [--json] [--strict]
// For each module x kernel pair: will the module's BTF relocate onto that
// kernel, and exactly what is wrong when it will not. Exit 0 when every pair
// relocates, 1 when any does not, 2 on bad input.

import { VerbSpec, parseArgs, multi, str } from "./args.js";
import { readInput } from "./io.js";
import { out } from "./main.js";
import { BtfError } from "../errors.js";
import { Btf } from "../btf.js";
import { loadBtf } from "../load.js";
import { unwrap } from "../input.js";
import { elfBtfSections } from "../elf.js";
import { Checker, CheckReport, KernelInput, ModuleInput } from "../check.js";

export const spec: VerbSpec = {
  usage: "btfkit check MODULE... --kernel VMLINUX... [--built-against VMLINUX] [--json] [--strict]",
  summary: "will each module's BTF relocate onto each kernel, and why not",
  options: { kernel: "multi", "built-against": "string", json: "bool", strict: "bool", validate: "string" },
  minPositionals: 1,
};

/** Parse each distinct kernel file once; the same path given twice is the same object. */
async function loadKernels(paths: string[], cache: Map<string, KernelInput>): Promise<KernelInput[]> {
  const outK: KernelInput[] = [];
  for (const p of paths) {
    let k = cache.get(p);
    if (!k) {
      const u = await unwrap(readInput(p));
      const btf = await loadBtf(u.bytes, { file: p });
      k = { name: p, btf, raw: u.kind === "btf" ? u.bytes : btf.toBytes() };
      cache.set(p, k);
    }
    outK.push(k);
  }
  return outK;
}

async function loadModule(path: string): Promise<ModuleInput> {
  const u = await unwrap(readInput(path));
  if (u.kind === "elf") {
    // A .ko: with .BTF.base it carries its own distilled base; without, its .BTF is plain split BTF,
    // which cannot be parsed without the vmlinux it was built on: the kernel judges the section's
    // bytes as they stand, and so does the checker.
    const secs = elfBtfSections(u.bytes);
    if (!secs.btfBase) return { name: path, raw: u.bytes.slice(secs.btf.offset, secs.btf.offset + secs.btf.size) };
    const btf = await loadBtf(u.bytes, { file: path });
    const db = btf.source?.distilledBase;
    if (db) return { name: path, distilled: { split: btf, base: db } };
    const raw = btf.toBytes();
    btf.free();
    return { name: path, raw };
  }
  return { name: path, raw: u.bytes };
}

export async function run(argv: string[]): Promise<number> {
  const { positionals, opts } = parseArgs(argv, spec);
  const kernelPaths = multi(opts.kernel);
  if (kernelPaths.length === 0) throw new BtfError("USAGE", `check needs at least one --kernel\nusage: ${spec.usage}`);
  const cache = new Map<string, KernelInput>();
  const builtPath = str(opts["built-against"]);
  const builtAgainst = builtPath ? (await loadKernels([builtPath], cache))[0] : undefined;
  const kernels = await loadKernels(kernelPaths, cache);
  const checker = new Checker(kernels, { builtAgainst, strict: !!opts.strict });
  const pairs = positionals.length * kernels.length;
  const progress = pairs > 12;
  let done = 0;
  for (const path of positionals) {
    const m = await loadModule(path);
    try {
      checker.checkModule(m);
    } finally {
      if (m.distilled) { m.distilled.split.free(); }
    }
    done += kernels.length;
    if (progress && (done % 60 === 0 || done === pairs)) process.stderr.write(`check: ${done}/${pairs} pairs\r`);
  }
  if (progress) process.stderr.write("\n");
  const report = checker.finish();
  if (opts.json) out(JSON.stringify(report, null, 1) + "\n");
  else out(renderText(report, positionals, kernels.map((k) => k.name)));
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
