// cdump FILE [--base B] [--unsorted]: the C header (bpftool format c, sorted
// by default) from a parsed Btf to finished bytes (libbpf with bpftool's
// sorting: 64-67 ms on k61-50).
import { join } from "node:path";
import { readRawBtf } from "../lib.mjs";

export default {
  name: "cdump",
  usage: "cdump FILE [--base B] [--unsorted]",
  options: { base: "string", unsorted: "bool" },
  positionals: [1, 1],
  order: 70,
  suite(root) { return [[join(root.dir, "k61-50/vmlinux.btf.gz")]]; },
  async setup(lib, [file], opts) {
    const base = opts.base ? lib.Btf.parse((await readRawBtf(lib, opts.base)).bytes) : undefined;
    const { bytes } = await readRawBtf(lib, file);
    const btf = lib.Btf.parse(bytes, { base });
    return { lib, base, btf, unsorted: !!opts.unsorted, label: file, inputBytes: bytes.length, residentInputBytes: bytes.length };
  },
  run: (s) => s.btf.dumpCBytes({ unsorted: s.unsorted }),
  release() {},
  describe: (s) => ({ sorted: !s.unsorted }),
  teardown(s) { s.btf.free(); s.base?.free(); },
};
