// distill MODULE --base BASE: btf__distill_base on a parsed module (libbpf:
// amdgpu 20-23 ms, loop 0.16 ms; libbpf f7081a6b built -O2 on the 2-core
// dev box, same run: amdgpu 11.3, nouveau 2.26, xfs 1.95, btrfs 1.37,
// sctp 0.56, kvm-intel 0.46, loop 0.12 ms). Parsing is outside the timing,
// as in libbpf's figure. The result's idMap (which libbpf does not produce)
// is expanded from the core's compact form only when read, and is not read here.
import { join } from "node:path";
import { defaultBase, readRawBtf } from "../lib.mjs";

export default {
  name: "distill",
  usage: "distill MODULE --base BASE",
  options: { base: "string" },
  positionals: [1, 1],
  order: 30,
  suite(root) {
    const base = join(root.dir, "k61-50/vmlinux.btf.gz");
    const mods = root.name === "corpus" ? ["amdgpu", "loop"] : ["bridge", "loop"];
    return mods.map((m) => [join(root.dir, "k61-50/modules", m + root.moduleExt), "--base", base]);
  },
  async setup(lib, [file], opts) {
    const b = await readRawBtf(lib, defaultBase(file, opts.base));
    const base = lib.Btf.parse(b.bytes);
    const { bytes } = await readRawBtf(lib, file);
    const mod = lib.Btf.parse(bytes, { base });
    return { lib, base, mod, label: file, inputBytes: bytes.length, residentInputBytes: bytes.length + b.bytes.length };
  },
  run: (s) => s.lib.distill(s.mod),
  release(_s, r) { r.split.free(); r.base.free(); },
  describe: (s) => ({ types: s.mod.typeCount - s.mod.startId }),
  teardown(s) { s.mod.free(); s.base.free(); },
};
