// btfkit core OBJ... --kernel KERNEL... [--module MOD]... [--format text|json|tsv] [-o DIR] [--strict] [--json]
// Will each BPF object's CO-RE relocations resolve on each kernel, exactly as
// libbpf decides at load time? KERNEL is a vmlinux BTF in any form (an ELF
// with .BTF too) or a directory laid out like /sys/kernel/btf (vmlinux plus
// one file per module). MOD adds a module BTF (any form; a .ko with
// .BTF.base is relocated onto the kernel first). Module BTFs are read only
// when some object has a type vmlinux lacks (libbpf searches them only then).
// Exit 0 when every record resolves, 1 when libbpf would refuse an object (or,
// with --strict, an instruction is poisoned), 2 on bad input.

import { readdirSync, statSync, mkdirSync, writeFileSync } from "node:fs";
import { join, basename } from "node:path";
import { VerbSpec, parseArgs, multi, str } from "./args.js";
import { gunzipSync } from "node:zlib";
import { out, readInput, writeOutputAtomic, writeStdout } from "./io.js";
import { loadBtf } from "../load.js";
import { DEFAULT_MAX_DECOMPRESSED } from "../input.js";
import { BtfError } from "../errors.js";
import { coreReportJson } from "../coreReport.js";
import { Btf } from "../btf.js";
import { BpfObject, CoreModule, CoreReport, CoreRecord, resolveCore, resolveCoreTsv, coreNeedsModules, coreJson } from "../coreRelo.js";

export const spec: VerbSpec = {
  usage: "btfkit core OBJ... --kernel KERNEL... [--module MOD]... [--format text|json|tsv] [-o DIR] [--strict] [--json]",
  summary: "will each BPF object's CO-RE relocations resolve on each kernel (libbpf's resolver, offline)",
  options: { kernel: "multi", module: "multi", format: "string", out: "string", strict: "bool", json: "bool" },
  aliases: { o: "out" },
  minPositionals: 1,
};

/** A module's name: its file name without .btf, .ko and compression suffixes. */
export function moduleName(path: string): string {
  let b = basename(path);
  for (let again = true; again;) {
    again = false;
    for (const suf of [".gz", ".xz", ".zst", ".lz4", ".btf", ".ko"]) {
      if (b.endsWith(suf) && b.length > suf.length) { b = b.slice(0, -suf.length); again = true; }
    }
  }
  return b;
}

export interface KernelSource {
  label: string;
  vmlinuxPath: string;
  modulePaths: string[];
  vmlinux?: Btf;
  modules?: CoreModule[];
}

export function kernelSource(path: string, extra: string[]): KernelSource {
  let st;
  try { st = statSync(path); } catch { throw new BtfError("USAGE", `cannot read ${path}`, { file: path }); }
  if (st.isDirectory()) {
    const names = readdirSync(path).filter((n) => n !== "vmlinux").sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return { label: path, vmlinuxPath: join(path, "vmlinux"), modulePaths: [...names.map((n) => join(path, n)), ...extra] };
  }
  return { label: path, vmlinuxPath: path, modulePaths: extra };
}

/**
 * Read a file, inflating gzip with Node's zlib (native, ~10x faster than the
 * portable inflater on a cold start, which dominates a one-shot run); other
 * forms go through loadBtf's own unwrapping.
 */
function readFast(path: string): Uint8Array {
  const b = readInput(path);
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) {
    try {
      const out = gunzipSync(b, { maxOutputLength: DEFAULT_MAX_DECOMPRESSED });
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    } catch {
      return b; // let the portable path report it precisely
    }
  }
  return b;
}

export async function vmlinuxOf(k: KernelSource): Promise<Btf> {
  if (!k.vmlinux) k.vmlinux = await loadBtf(readFast(k.vmlinuxPath), { file: k.vmlinuxPath });
  return k.vmlinux;
}

export async function modulesOf(k: KernelSource): Promise<CoreModule[]> {
  if (!k.modules) {
    const base = await vmlinuxOf(k);
    const mods: CoreModule[] = [];
    for (const p of k.modulePaths) mods.push({ name: moduleName(p), btf: await loadBtf(readFast(p), { base, file: p }) });
    k.modules = mods;
  }
  return k.modules;
}

export async function run(argv: string[]): Promise<number> {
  const { positionals, opts } = parseArgs(argv, spec);
  const kernelPaths = multi(opts.kernel);
  if (kernelPaths.length === 0) throw new BtfError("USAGE", `core needs at least one --kernel\nusage: ${spec.usage}`);
  const format = str(opts.format) ?? (opts.json ? "json" : "text");
  if (format !== "text" && format !== "json" && format !== "tsv") throw new BtfError("USAGE", `--format takes text, json or tsv, not '${format}'`);
  const outDir = str(opts.out);
  if (outDir) {
    try { mkdirSync(outDir, { recursive: true }); } catch (e) {
      throw new BtfError("USAGE", `cannot create ${outDir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  const modPaths = multi(opts.module);
  const kernels = kernelPaths.map((p) => kernelSource(p, modPaths));
  const reports: CoreReport[] = [];
  let anyRefused = false;
  let anyPoisoned = false;
  /** Scan a TSV for error/poison statuses and patches (column 10 and 21). */
  const tsvOk = (text: Uint8Array): boolean => {
    let ok = true;
    for (const line of new TextDecoder().decode(text).split("\n")) {
      if (!line || line.startsWith("#")) continue;
      const f = line.split("\t");
      if (f[9] === "error") ok = false;
      if (f[20] === "poison" || f[20] === "error") anyPoisoned = true;
    }
    return ok;
  };
  const texts: string[] = [];
  for (const path of positionals) {
    const name = basename(path);
    const obj = BpfObject.open(readInput(path), name);
    try {
      if (format === "tsv") {
        // The core renders the golden TSV directly (no per-record JS objects).
        for (let i = 0; i < kernels.length; i++) {
          const k = kernels[i];
          const vmlinux = await vmlinuxOf(k);
          const mods = k.modulePaths.length > 0 && coreNeedsModules(obj, vmlinux) ? await modulesOf(k) : undefined;
          const text = resolveCoreTsv(obj, vmlinux, { modules: mods, name });
          if (!tsvOk(text)) anyRefused = true;
          if (outDir) {
            const dir = kernels.length > 1 ? join(outDir, kernelDirName(k.label, i)) : outDir;
            if (kernels.length > 1) mkdirSync(dir, { recursive: true });
            writeDirect(join(dir, `${name}.tsv`), text);
          } else writeStdout(text);
        }
        continue;
      }
      const perObj: CoreReport[] = [];
      for (const k of kernels) {
        const vmlinux = await vmlinuxOf(k);
        // Modules are read only if this object needs them; resolveCore asks.
        let mods: CoreModule[] | undefined;
        if (k.modulePaths.length > 0) {
          if (coreNeedsModules(obj, vmlinux)) mods = await modulesOf(k);
        }
        const r = resolveCore(obj, vmlinux, { modules: mods, name, kernelName: k.label });
        perObj.push(r);
        reports.push(r);
      }
      if (format === "json" && outDir) {
        writeOutputAtomic(join(outDir, `${name}.json`), new TextEncoder().encode(JSON.stringify(perObj.map(coreJson), null, 1) + "\n"));
      } else if (format === "text") {
        texts.push(renderText(perObj));
      }
    } finally {
      obj.free();
    }
  }
  if (format === "json" && !outDir) out(coreReportJson(reports));
  else if (texts.length) out(texts.join(format === "text" ? "\n" : ""));
  const refused = anyRefused || reports.some((r) => !r.ok);
  const poisoned = anyPoisoned || reports.some((r) => r.records.some((x) => x.patch === "poison" || x.patch === "error"));
  return refused || (opts.strict && poisoned) ? 1 : 0;
}

/**
 * One object's file under -o DIR, written in place: a run over a hundred
 * objects spent more time renaming temporaries into DIR than resolving.
 */
function writeDirect(path: string, data: Uint8Array): void {
  try {
    writeFileSync(path, data);
  } catch (e) {
    throw new BtfError("USAGE", `cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file: path });
  }
}

function kernelDirName(label: string, i: number): string {
  const b = basename(label).replace(/\.(btf|gz|xz|zst)$/g, "").replace(/\.(btf|gz|xz|zst)$/g, "");
  const parent = basename(join(label, ".."));
  return `${i + 1}-${b === "vmlinux" ? parent : b}`;
}

/** A record in C terms: "struct inode.i_atime (access 0:37)". */
function describe(x: CoreRecord): string {
  const t = `${x.localKind} ${x.localName}`;
  if (x.kind === "local_type_id" || x.kind === "target_type_id" || x.kind.startsWith("type_")) return `${x.kind}(${t})`;
  return `${t}${x.localAccess} (${x.kind}, access ${x.access})`;
}

function renderText(reports: CoreReport[]): string {
  const lines: string[] = [];
  for (const r of reports) {
    const verdict = !r.ok ? "REFUSED: libbpf will not load it" : r.clean ? "loads" : "loads (poisoned instructions fail verification if reached)";
    lines.push(`${r.object} on ${r.kernel}: ${verdict}`);
    for (const s of r.sections) {
      const st = s.errors ? `refused (${s.errors} failing record${s.errors > 1 ? "s" : ""})` : s.poisoned ? `loads, ${s.poisoned} poisoned instruction${s.poisoned > 1 ? "s" : ""}` : "loads";
      lines.push(`  ${s.name}: ${s.records} relocation${s.records === 1 ? "" : "s"}, ${st}`);
    }
    for (const x of r.records) {
      const where = `instruction ${x.insnOff / 8} of ${x.sec}`;
      if (x.status === "error") {
        lines.push(`    error: ${describe(x)}: ${x.reason} (errno ${x.errno}); libbpf refuses the object`);
      } else if (x.patch === "poison") {
        const ess = `${x.localKind} ${x.localName.replace(/___.*$/, "")}`;
        const what = x.kind.startsWith("enumval") ? "enumerator" : "field";
        const why = x.status === "poison"
          ? (x.cands ? `no such ${what} in the kernel's ${ess} (${x.cands} candidate${x.cands > 1 ? "s" : ""})` : `no ${ess} in the kernel`)
          : `the field's size changes and its type cannot be read at another size`;
        lines.push(`    poisoned: ${describe(x)}: ${why}; ${where} poisoned`);
      } else if (x.patch === "error") {
        lines.push(`    error: ${describe(x)}: cannot patch ${where}: ${x.reason} (errno ${x.errno})`);
      }
    }
  }
  return lines.join("\n") + "\n";
}
