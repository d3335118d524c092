// btfkit relocate MODULE --base VMLINUX [--dist-base F] -o OUT [--map F] [--compat-1.5]
// btf__relocate: MODULE's split BTF, on its distilled base (--dist-base, or
// the module's own .BTF.base), moved onto VMLINUX. OUT is the relocated
// split as raw bytes; --map writes the id mapping (golden .map format). On
// failure every distilled type that does not fit is listed, exit 1, and
// nothing is written.

import { VerbSpec, parseArgs, str } from "./args.js";
import { loadFile, validateLevel, writeOutputsAtomic } from "./io.js";
import { BtfError } from "../errors.js";
import { relocate, relocationMapText, describeProblem, RelocationError } from "../transform.js";
import { dedup } from "../dedup.js";
import type { Btf } from "../btf.js";

export const spec: VerbSpec = {
  usage: "btfkit relocate MODULE --base VMLINUX [--dist-base F] -o OUT [--map F] [--dedup] [--compat-1.5] [--validate libbpf|kernel]",
  summary: "move a module's split BTF from its distilled base onto a kernel's BTF (as libbpf/the kernel)",
  options: { base: "string", "dist-base": "string", out: "string", map: "string", "compat-1.5": "bool", dedup: "bool", validate: "string" },
  aliases: { o: "out" },
  minPositionals: 1, maxPositionals: 1,
};

export async function run(argv: string[]): Promise<number> {
  const { positionals, opts } = parseArgs(argv, spec);
  const level = validateLevel(opts.validate);
  const basePath = str(opts.base);
  const o = str(opts.out);
  if (!basePath) throw new BtfError("USAGE", `relocate needs --base VMLINUX\nusage: ${spec.usage}`);
  if (!o) throw new BtfError("USAGE", `relocate needs -o OUT\nusage: ${spec.usage}`);
  const newBase = await loadFile(basePath, { validate: level });
  const distPath = str(opts["dist-base"]);
  const dist = distPath ? await loadFile(distPath, { validate: level }) : undefined;
  let mod: Btf;
  try {
    mod = await loadFile(positionals[0], { base: dist, validate: level });
  } catch (e) {
    // A raw split read without its base fails to parse: say what is missing.
    if (!dist && e instanceof BtfError && e.code === "BAD_STRINGS")
      throw new BtfError("USAGE", `${e.message}; a raw split BTF needs its distilled base: --dist-base F`, { file: positionals[0] });
    throw e;
  }
  if (!mod.base) throw new BtfError("USAGE", `${positionals[0]} has no distilled base: give --dist-base F (or a .ko with .BTF.base)`, { file: positionals[0] });
  let r;
  try {
    r = relocate(mod, newBase, { compat15: !!opts["compat-1.5"] });
  } catch (e) {
    if (!(e instanceof RelocationError)) throw e;
    const n = e.problems.length;
    const lines = [`btfkit relocate: ${positionals[0]}: cannot relocate onto ${basePath}: ${n} distilled base type${n === 1 ? "" : "s"} do${n === 1 ? "es" : ""} not match`];
    for (const p of e.problems) lines.push(`  ${describeProblem(p)}`);
    process.stderr.write(lines.join("\n") + "\n");
    return 1;
  }
  // --dedup: fold the typedefs, pointers and anonymous types that distill
  // copied into the split back into the kernel's own ids (btf__dedup).
  const out = opts.dedup ? dedup(r.btf) : r.btf;
  const bytes = out.toBytes({ endian: mod.endian, header: opts.dedup ? 24 : undefined });
  const mapPath = str(opts.map);
  const mapText = mapPath ? relocationMapText(mod, newBase, r.idMap) : undefined;
  writeOutputsAtomic(mapPath && mapText ? [[o, bytes], [mapPath, mapText]] : [[o, bytes]]);
  return 0;
}
