// btfkit convert FILE [--base B] [--endian little|big] [--header 24|32] -o OUT
// Writes the BTF (for a split, only its own part) as a raw blob. Unchanged,
// it gives back the input's bytes; it also extracts .BTF from ELF or
// compressed inputs.

import { VerbSpec, parseArgs, str } from "./args.js";
import { loadFileOnBase, validateLevel, writeOptions, writeOutputAtomic } from "./io.js";
import { BtfError } from "../errors.js";

export const spec: VerbSpec = {
  usage: "btfkit convert FILE [--base B] [--endian little|big] [--header 24|32] -o OUT [--validate libbpf|kernel]",
  summary: "write the BTF as a raw blob (extract from ELF/compressed, change byte order)",
  options: { base: "string", endian: "string", header: "string", out: "string", validate: "string" },
  aliases: { o: "out" },
  minPositionals: 1, maxPositionals: 1,
};

export async function run(argv: string[]): Promise<number> {
  const { positionals, opts } = parseArgs(argv, spec);
  const level = validateLevel(opts.validate);
  const o = str(opts.out);
  if (!o) throw new BtfError("USAGE", `convert needs -o OUT\nusage: ${spec.usage}`);
  const w = writeOptions(opts);
  const basePath = str(opts.base);
  const btf = await loadFileOnBase(positionals[0], basePath, level);
  const bytes = btf.toBytes({ endian: w.endian ?? btf.endian, header: w.header });
  writeOutputAtomic(o, bytes);
  return 0;
}
