// dedup FILE [--base B]: btf__dedup of a parsed BTF (libbpf: 112 ms on the
// k61-50-twice golden input). Each result is freed; the input is never changed.
import { readRawBtf } from "../lib.mjs";

export default {
  name: "dedup",
  usage: "dedup FILE [--base B]",
  options: { base: "string" },
  positionals: [1, 1],
  order: 50,
  suite(root) {
    return root.name === "corpus" ? [[root.dir.replace(/corpus$/, "golden/dedup/k61-50-twice/input.btf.gz")]] : [];
  },
  async setup(lib, [file], opts) {
    const base = opts.base ? lib.Btf.parse((await readRawBtf(lib, opts.base)).bytes) : undefined;
    const { bytes } = await readRawBtf(lib, file);
    const btf = lib.Btf.parse(bytes, { base });
    return { lib, base, btf, label: file, inputBytes: bytes.length, residentInputBytes: bytes.length };
  },
  run: (s) => s.lib.dedup(s.btf),
  release(_s, r) { r.free(); },
  describe: (s) => ({ types: s.btf.typeCount - s.btf.startId }),
  teardown(s) { s.btf.free(); s.base?.free(); },
};
