// btfkit dedup FILE [--base B] -o OUT
// libbpf's btf__dedup: writes the deduplicated BTF (for a split, its own
// part, with types equal to base types folded into the base), with a 24-byte
// header unless --header 32.

import { VerbSpec, parseArgs, str } from "./args.js";
import { loadFileOnBase, validateLevel, writeOptions, writeOutputAtomic } from "./io.js";
import { BtfError } from "../errors.js";
import { dedup } from "../dedup.js";

export const spec: VerbSpec = {
  usage: "btfkit dedup FILE [--base B] -o OUT [--endian little|big] [--header 24|32] [--validate libbpf|kernel]",
  summary: "deduplicate types and strings exactly as libbpf's btf__dedup",
  options: { base: "string", out: "string", endian: "string", header: "string", validate: "string" },
  aliases: { o: "out" },
  minPositionals: 1, maxPositionals: 1,
};

export async function run(argv: string[]): Promise<number> {
  const { positionals, opts } = parseArgs(argv, spec);
  const level = validateLevel(opts.validate);
  const o = str(opts.out);
  if (!o) throw new BtfError("USAGE", `dedup needs -o OUT\nusage: ${spec.usage}`);
  const w = writeOptions(opts);
  const basePath = str(opts.base);
  const btf = await loadFileOnBase(positionals[0], basePath, level);
  const out = dedup(btf);
  // The classic 24-byte header by default (what released libbpf, pahole and
  // kernels write, and the goldens hold), unless a layout section needs 32.
  const hdr = w.header ?? (out.header.layoutLen > 0 ? 32 : 24);
  const bytes = out.toBytes({ endian: w.endian ?? out.endian, header: hdr });
  writeOutputAtomic(o, bytes);
  return 0;
}
