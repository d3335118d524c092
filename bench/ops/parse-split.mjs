// parse-split SPLIT --base BASE: split (module) BTF bytes already in JS memory
// -> a validated, indexed Btf on its base. The base is parsed once in setup,
// outside the timing, as a loader that keeps vmlinux parsed would.
import { join } from "node:path";
import { defaultBase, readRawBtf } from "../lib.mjs";

export default {
  name: "parse-split",
  usage: "parse-split SPLIT --base BASE [--validate libbpf|kernel]",
  options: { base: "string", validate: "string" },
  positionals: [1, 1],
  order: 20,

  suite(root) {
    const base = join(root.dir, "k61-50/vmlinux.btf.gz");
    const mods = root.name === "corpus" ? ["amdgpu", "loop"] : ["bridge", "loop"];
    return mods.map((m) => [join(root.dir, "k61-50/modules", m + root.moduleExt), "--base", base]);
  },

  async setup(lib, [file], opts) {
    const basePath = defaultBase(file, opts.base);
    const validate = opts.validate ?? "libbpf";
    const baseIn = await readRawBtf(lib, basePath);
    const base = lib.Btf.parse(baseIn.bytes, { validate });
    const { bytes } = await readRawBtf(lib, file);
    return {
      lib, base, bytes, validate, label: file,
      inputBytes: bytes.length,
      baseBytes: baseIn.bytes.length,
      residentInputBytes: bytes.length + baseIn.bytes.length,
    };
  },

  run(s) {
    return s.lib.Btf.parse(s.bytes, { base: s.base, validate: s.validate });
  },

  release(_s, btf) {
    btf.free();
  },

  describe(s) {
    const b = s.lib.Btf.parse(s.bytes, { base: s.base });
    const types = b.typeCount - b.startId;
    b.free();
    return { types, base_input_bytes: s.baseBytes, validate: s.validate };
  },

  teardown(s) {
    s.base.free();
  },
};
