// parse FILE: raw BTF bytes already in JS memory -> a validated, indexed Btf
// (copy into wasm + header/string/type parse + libbpf-level validation), the
// work libbpf's btf__new() does. Compare: libbpf 2.3 ms on k61-50 vmlinux
// (../shared/docs/observed.md).
import { join } from "node:path";
import { readRawBtf } from "../lib.mjs";

export default {
  name: "parse",
  usage: "parse FILE [--validate libbpf|kernel]",
  options: { validate: "string" },
  positionals: [1, 1],
  order: 10,

  /** Argument vectors for the default suite. */
  suite(root) {
    return [[join(root.dir, "k61-50/vmlinux.btf.gz")]];
  },

  async setup(lib, [file], opts) {
    const { bytes } = await readRawBtf(lib, file);
    const validate = opts.validate ?? "libbpf";
    return { lib, bytes, validate, inputBytes: bytes.length, label: file };
  },

  run(s) {
    return s.lib.Btf.parse(s.bytes, { validate: s.validate });
  },

  /** Untimed, after every iteration: nothing is carried to the next one. */
  release(_s, btf) {
    btf.free();
  },

  describe(s) {
    const b = s.lib.Btf.parse(s.bytes);
    const types = b.typeCount - b.startId;
    b.free();
    return { types, validate: s.validate };
  },

  teardown() {},
};
