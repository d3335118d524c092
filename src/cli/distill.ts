// btfkit distill MODULE --base VMLINUX --out-base F --out-split F
// btf__distill_base: writes the distilled base and the new split as raw
// blobs, byte-identical to libbpf (the source's byte order).

import { VerbSpec, parseArgs, str } from "./args.js";
import { loadFile, validateLevel, writeOutputAtomic } from "./io.js";
import { BtfError } from "../errors.js";
import { distill } from "../transform.js";
import type { Btf } from "../btf.js";

export const spec: VerbSpec = {
  usage: "btfkit distill MODULE --base VMLINUX --out-base F --out-split F [--validate libbpf|kernel]",
  summary: "distill a module's BTF: a minimal .BTF.base and the split BTF on it (as libbpf/pahole)",
  options: { base: "string", "out-base": "string", "out-split": "string", validate: "string" },
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
  if (!str(opts["out-base"]) && !str(opts["out-split"])) throw new BtfError("USAGE", `distill needs --out-base and/or --out-split\nusage: ${spec.usage}`);
  const base = await loadFile(basePath, { validate: level });
  const mod = await loadFile(positionals[0], { base, validate: level });
  const r = distill(mod);
  // Everything is computed before anything is written.
  for (const [path, bytes] of outputs(opts, r.base, r.split, mod.endian)) writeOutputAtomic(path, bytes);
  return 0;
}
