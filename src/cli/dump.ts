// btfkit dump FILE [--base B] [--format raw|json|c] [-o OUT] [--validate L]
// raw is byte-identical to `bpftool btf dump file FILE [-B B] format raw`,
// c to `bpftool btf dump file FILE [-B B] format c [unsorted]`.

import { VerbSpec, parseArgs, str, multi } from "./args.js";
import { loadFileOnBase, validateLevel, writeOutputAtomic, writeStdout } from "./io.js";
import { BtfError } from "../errors.js";
import { Btf } from "../btf.js";
import { dumpCBytes } from "../dumpc.js";

export const spec: VerbSpec = {
  usage: "btfkit dump FILE [--base B] [--format raw|json|c] [-o OUT] [--validate libbpf|kernel]\n" +
    "            c: [--unsorted] [--root NAME|ID]... [--bare] [--ptr-size 4|8] [--bpftool-compat]",
  summary: "raw text as bpftool, JSON, or a C header",
  options: {
    base: "string", format: "string", out: "string", validate: "string",
    unsorted: "bool", root: "multi", bare: "bool", "ptr-size": "string", "bpftool-compat": "bool",
  },
  aliases: { o: "out" },
  minPositionals: 1, maxPositionals: 1,
};

/** Extra dump formats register here (the C header dump adds "c"). */
export const formats: Record<string, (btf: Btf, argv: Record<string, unknown>) => Uint8Array> = {
  raw: (btf) => btf.dumpRawBytes(),
  json: (btf) => btf.dumpJsonBytes(),
  c: (btf, o) => dumpCBytes(btf, {
    unsorted: o.unsorted === true,
    roots: multi(o.root).length ? multi(o.root) : undefined,
    bare: o.bare === true,
    ptrSize: ptrSizeOpt(o["ptr-size"]),
    bpftoolCompat: o["bpftool-compat"] === true,
  }),
};

function ptrSizeOpt(v: unknown): 4 | 8 | undefined {
  if (v === undefined) return undefined;
  if (v === "4" || v === "8") return Number(v) as 4 | 8;
  throw new BtfError("USAGE", `--ptr-size takes 4 or 8, not ${String(v)}`);
}

export async function run(argv: string[]): Promise<number> {
  const { positionals, opts } = parseArgs(argv, spec);
  const level = validateLevel(opts.validate);
  const format = str(opts.format) ?? "raw";
  const render = formats[format];
  if (!render) throw new BtfError("USAGE", `unknown format ${format} (${Object.keys(formats).join(", ")})`);
  const basePath = str(opts.base);
  const btf = await loadFileOnBase(positionals[0], basePath, level);
  const bytes = render(btf, opts);
  const o = str(opts.out);
  if (o) writeOutputAtomic(o, bytes);
  else writeStdout(bytes);
  return 0;
}
