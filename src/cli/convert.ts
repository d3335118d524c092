// btfkit convert FILE [--base B] [--endian little|big] [--header 24|32] -o OUT
// Writes the BTF (for a split, only its own part) as a raw blob. Unchanged,
// it gives back the input's bytes; it also extracts .BTF from ELF or
// compressed inputs.

import { VerbSpec, parseArgs, str } from "./args.js";
import { loadFile, validateLevel, writeOutputAtomic } from "./io.js";
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
  const endian = str(opts.endian);
  if (endian !== undefined && endian !== "little" && endian !== "big") throw new BtfError("USAGE", "--endian takes little or big");
  const header = str(opts.header);
  if (header !== undefined && header !== "24" && header !== "32") throw new BtfError("USAGE", "--header takes 24 or 32");
  const basePath = str(opts.base);
  const base = basePath ? await loadFile(basePath, { validate: level }) : undefined;
  const btf = await loadFile(positionals[0], { base, validate: level });
  const bytes = btf.toBytes({ endian: (endian ?? btf.endian) as "little" | "big", header: header ? (Number(header) as 24 | 32) : undefined });
  writeOutputAtomic(o, bytes);
  return 0;
}
