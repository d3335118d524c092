// btfkit info FILE [--base B] [--json] [--validate libbpf|kernel]

import { VerbSpec, parseArgs, str } from "./args.js";
import { loadFileOnBase, validateLevel } from "./io.js";
import { out } from "./io.js";

export const spec: VerbSpec = {
  usage: "btfkit info FILE [--base B] [--json] [--validate libbpf|kernel]",
  summary: "counts per kind, header, endianness, sections, base or split",
  options: { base: "string", json: "bool", validate: "string" },
  minPositionals: 1, maxPositionals: 1,
};

export async function run(argv: string[]): Promise<number> {
  const { positionals, opts } = parseArgs(argv, spec);
  const level = validateLevel(opts.validate);
  const basePath = str(opts.base);
  const btf = await loadFileOnBase(positionals[0], basePath, level);
  const hdr = btf.header;
  const counts = btf.kindCounts();
  const src = btf.source;
  const info = {
    file: positionals[0],
    base: basePath ?? null,
    split: btf.isSplit,
    container: src?.container ?? "raw",
    layers: src?.layers ?? [],
    elf: src?.elf ?? null,
    sections: src?.sections ?? null,
    relocated: src?.relocated ?? false,
    header: { hdr_len: hdr.hdrLen, form: hdr.hdrLen >= 32 ? "layout (32-byte)" : "classic (24-byte)", flags: hdr.flags, type_len: hdr.typeLen, str_len: hdr.strLen, layout_len: hdr.layoutLen },
    endian: hdr.endian,
    start_id: btf.startId,
    start_str_off: btf.startStrOff,
    types: btf.typeCount - btf.startId,
    last_id: btf.typeCount - 1,
    pointer_size: btf.pointerSize ?? null,
    kinds: counts,
    validated: level,
  };
  if (opts.json) {
    out(JSON.stringify(info, null, 2) + "\n");
    return 0;
  }
  const lines = [
    `file:        ${info.file}${info.layers.length ? ` (${info.layers.join(" -> ")})` : ""}`,
    `container:   ${info.container}${info.sections ? ` (sections: ${info.sections.join(", ")})` : ""}${info.elf ? `, ELF${info.elf.class} ${info.elf.endian}-endian` : ""}`,
    `btf:         ${info.split ? `split on ${basePath ?? "its distilled base"}` : "base"}${info.relocated ? ", relocated from its .BTF.base" : ""}`,
    `header:      ${info.header.form}, flags ${info.header.flags}, type_len ${hdr.typeLen}, str_len ${hdr.strLen}${hdr.layoutLen ? `, layout_len ${hdr.layoutLen}` : ""}`,
    `endianness:  ${info.endian}`,
    `types:       ${info.types} (ids ${info.start_id}..${info.last_id}), strings from offset ${info.start_str_off}`,
    `pointer:     ${info.pointer_size ?? "unknown"} bytes`,
    `validation:  passed (${level})`,
    `kinds:`,
    ...Object.entries(counts).map(([k, n]) => `  ${k.padEnd(11)} ${n}`),
  ];
  out(lines.join("\n") + "\n");
  return 0;
}
