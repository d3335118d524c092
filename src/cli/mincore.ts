// btfkit min-core OBJ... --kernel KERNEL... [--module MOD]... -o OUT [--no-verify]
// Tailored BTF: the types and members the objects' CO-RE relocations touch
// in each kernel, as a standalone BTF (bpftool's `gen min_core_btf`, byte
// for byte on a vmlinux alone; module types join in where libbpf would have
// found them in modules). KERNEL and MOD as in `btfkit core`. One kernel:
// -o names the output file (or a directory, ending in /). Several: -o is a
// directory, one file per kernel named after it, and a table on stdout.
// Kernels are read, tailored and released one at a time.
// Records that resolve to nothing are listed on stderr. Exit 0 ok; 1 when a
// record is a resolver error (libbpf refuses the object: no output for that
// kernel) or the output would answer a record differently; 2 bad input.

import { mkdirSync, statSync } from "node:fs";
import { join, basename, dirname, resolve } from "node:path";
import { release } from "node:os";
import { VerbSpec, parseArgs, multi, str } from "./args.js";
import { out, readInput, writeOutputAtomic } from "./io.js";
import { kernelSource, vmlinuxOf, modulesOf, KernelSource } from "./core.js";
import { BtfError } from "../errors.js";
import { BpfObject, CoreRecord, coreNeedsModules } from "../coreRelo.js";
import { minCore, describeRecord, MinCoreResult } from "../mincore.js";

export const spec: VerbSpec = {
  usage: "btfkit min-core OBJ... --kernel KERNEL... [--module MOD]... -o OUT.btf|DIR/ [--no-verify]",
  summary: "tailored BTF: only what the objects' CO-RE relocations need from each kernel (bpftool gen min_core_btf, module-aware)",
  options: { kernel: "multi", module: "multi", out: "string", "no-verify": "bool" },
  aliases: { o: "out" },
  minPositionals: 1,
};

/**
 * The output file name of a kernel: its file name without suffixes, its
 * directory's name for a `vmlinux` or a /sys/kernel/btf-style directory, or
 * the release for /sys/kernel/btf itself.
 */
export function kernelOutName(label: string): string {
  // The running kernel's BTF is named by its release (uname -r), as BTFHub names its files.
  if (resolve(label) === "/sys/kernel/btf") return `${release()}.btf`;
  let b = basename(label.replace(/\/+$/, ""));
  for (let again = true; again;) {
    again = false;
    for (const suf of [".gz", ".xz", ".zst", ".lz4", ".btf"]) {
      if (b.endsWith(suf) && b.length > suf.length) { b = b.slice(0, -suf.length); again = true; }
    }
  }
  let isDir = false;
  try { isDir = statSync(label).isDirectory(); } catch { /* reported when loaded */ }
  if ((b === "vmlinux" || isDir && b === "btf")) b = basename(dirname(label.replace(/\/+$/, ""))) || b;
  return `${b}.btf`;
}

function why(x: CoreRecord): string {
  if (x.status === "poison") return "poisoned (no field or value in the kernel)";
  return `${x.kind} = 0 (nothing in the kernel)`;
}

interface Row { kernel: string; file: string; types: number; bytes: number; records: number; resolved: number; poisoned: number; note: string }

function table(rows: Row[]): string {
  const head = ["kernel", "types", "bytes", "resolved", "poisoned", "file"];
  const body = rows.map((r) => [r.kernel, String(r.types), String(r.bytes), `${r.resolved}/${r.records}`, String(r.poisoned), r.note || r.file]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (c: string[]) => c.map((x, i) => (i === 0 || i === c.length - 1 ? x.padEnd(w[i]) : x.padStart(w[i]))).join("  ").trimEnd();
  return [line(head), ...body.map(line)].join("\n") + "\n";
}

export async function run(argv: string[]): Promise<number> {
  const { positionals, opts } = parseArgs(argv, spec);
  const kernelPaths = multi(opts.kernel);
  if (kernelPaths.length === 0) throw new BtfError("USAGE", `min-core needs --kernel\nusage: ${spec.usage}`);
  const o = str(opts.out);
  if (!o) throw new BtfError("USAGE", `min-core needs -o OUT\nusage: ${spec.usage}`);
  let isDirOut = o.endsWith("/") || kernelPaths.length > 1;
  if (!isDirOut) { try { isDirOut = statSync(o).isDirectory(); } catch { /* a file to create */ } }
  if (isDirOut) {
    try { mkdirSync(o, { recursive: true }); } catch (e) {
      throw new BtfError("USAGE", `cannot create ${o}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  const kernels: KernelSource[] = kernelPaths.map((p) => kernelSource(p, multi(opts.module)));
  const names = kernels.map((k) => kernelOutName(k.label));
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (isDirOut && dup) throw new BtfError("USAGE", `two kernels would both be written to ${dup}: give them distinct file or directory names`);

  const objs = positionals.map((p) => BpfObject.open(readInput(p), basename(p)));
  const rows: Row[] = [];
  let code = 0;
  try {
    for (let i = 0; i < kernels.length; i++) {
      const k = kernels[i];
      const file = isDirOut ? join(o, names[i]) : o;
      const vmlinux = await vmlinuxOf(k);
      let res: MinCoreResult;
      try {
        // Modules are read only if some object has a type vmlinux lacks (libbpf searches them only then).
        const needed = k.modulePaths.length > 0 && objs.some((b) => coreNeedsModules(b, vmlinux));
        const mods = needed ? await modulesOf(k) : undefined;
        res = minCore(objs, vmlinux, { modules: mods, kernelName: k.label, verify: !opts["no-verify"] });
      } catch (e) {
        if (!(e instanceof BtfError) || (e.code !== "CORE_REFUSED" && e.code !== "MINCORE_DIVERGED")) throw e;
        process.stderr.write(`btfkit min-core: ${k.label}: ${e.message}; no output written\n`);
        rows.push({ kernel: k.label, file, types: 0, bytes: 0, records: 0, resolved: 0, poisoned: 0, note: e.code === "CORE_REFUSED" ? "refused" : "diverged" });
        code = 1;
        continue;
      } finally {
        vmlinux.free();
        for (const m of k.modules ?? []) m.btf.free();
        k.vmlinux = undefined;
        k.modules = undefined;
      }
      // bpftool writes a BTF without types then too; the kernel's BTF_LOAD would refuse it ("No type
      // found"), but libbpf reads it as a target, which is what a tailored BTF is for.
      if (res.records === 0) process.stderr.write(`btfkit min-core: ${k.label}: the objects have no CO-RE relocation: the output holds no types (as bpftool's)\n`);
      for (const x of res.unresolved) process.stderr.write(`btfkit min-core: ${k.label}: ${describeRecord(x)}: ${why(x)}\n`);
      for (const d of res.diverged) process.stderr.write(`btfkit min-core: ${k.label}: warning: on the output alone ${describeRecord(d.record)} gives ${d.got.status} ${d.got.newVal}, not ${d.record.status} ${d.record.newVal}\n`);
      writeOutputAtomic(file, res.btf);
      rows.push({ kernel: k.label, file, types: res.types, bytes: res.btf.length, records: res.records, resolved: res.resolved, poisoned: res.poisoned, note: "" });
    }
  } finally {
    for (const b of objs) b.free();
  }
  if (isDirOut) out(table(rows));
  return code;
}
