// btfkit distill MODULE --base VMLINUX --out-base F --out-split F
// btfkit distill MODULE.ko --base VMLINUX -o OUT.ko
// btf__distill_base: writes the distilled base and the new split as raw
// blobs, byte-identical to libbpf (the source's byte order), or a copy of the
// module with .BTF replaced by the new split and .BTF.base added, as a kbuild
// of an out-of-tree module with pahole's distilled_base feature produces. The
// ids in .BTF_ids are remapped through distill's id map (as resolve_btfids
// numbers them against .BTF.base). The module signature Debian appends no
// longer matches the rewritten file, so it is dropped, with a warning: the
// kernel loads unsigned modules (tainting it) unless MODULE_SIG_FORCE is set.
// The .ko writing is the public API's writeDistilledKo (src/ko.ts), which the
// explorer's download uses too.

import { VerbSpec, parseArgs, str } from "./args.js";
import { loadFile, readInput, validateLevel, writeOutputsAtomic } from "./io.js";
import { loadBtf } from "../load.js";
import { unwrap } from "../input.js";
import { writeDistilledKo, DROPPED_SIGNATURE } from "../ko.js";
import { BtfError } from "../errors.js";
import { distill } from "../transform.js";
import type { Btf } from "../btf.js";

export const spec: VerbSpec = {
  usage: "btfkit distill MODULE --base VMLINUX (--out-base F --out-split F | -o OUT.ko) [--validate libbpf|kernel]",
  summary: "distill a module's BTF: a minimal .BTF.base and the split BTF on it (as libbpf/pahole)",
  options: { base: "string", "out-base": "string", "out-split": "string", out: "string", validate: "string" },
  aliases: { o: "out" },
  minPositionals: 1, maxPositionals: 1,
};

/** The files a distill run writes: each output form adds its entries (a .ko writer adds one). */
export function outputs(opts: Record<string, unknown>, base: Btf, split: Btf, endian: "little" | "big"): Array<[string, Uint8Array]> {
  const out: Array<[string, Uint8Array]> = [];
  const ob = str(opts["out-base"]);
  const os = str(opts["out-split"]);
  if (ob) out.push([ob, base.toBytes({ endian })]);
  if (os) out.push([os, split.toBytes({ endian })]);
  return out;
}

export async function run(argv: string[]): Promise<number> {
  const { positionals, opts } = parseArgs(argv, spec);
  const level = validateLevel(opts.validate);
  const basePath = str(opts.base);
  if (!basePath) throw new BtfError("USAGE", `distill needs --base VMLINUX\nusage: ${spec.usage}`);
  const koOut = str(opts.out);
  if (!str(opts["out-base"]) && !str(opts["out-split"]) && !koOut) throw new BtfError("USAGE", `distill needs --out-base/--out-split or -o OUT.ko\nusage: ${spec.usage}`);
  const base = await loadFile(basePath, { validate: level });
  const input = readInput(positionals[0]);
  const unwrapped = koOut ? await unwrap(input) : undefined;
  if (unwrapped && unwrapped.kind !== "elf") throw new BtfError("USAGE", `-o writes a module: ${positionals[0]} is not an ELF .ko`, { file: positionals[0] });
  const mod = await loadBtf(input, { base, validate: level, file: positionals[0] });
  const r = distill(mod);
  // Everything is computed before anything is written.
  const files = outputs(opts, r.base, r.split, mod.endian);
  if (koOut && unwrapped) {
    const w = writeDistilledKo(unwrapped.bytes, mod, r);
    if (w.droppedSignature) process.stderr.write(`btfkit distill: warning: ${positionals[0]}: ${DROPPED_SIGNATURE}\n`);
    if (w.remappedIds) process.stderr.write(`btfkit distill: remapped ${w.remappedIds} ids in .BTF_ids\n`);
    files.push([koOut, w.bytes]);
  }
  writeOutputsAtomic(files);
  return 0;
}
