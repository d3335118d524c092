// relocate MODULE --base NEWBASE [--dist-base DB]: btf__relocate of a distilled
// module onto a kernel (libbpf: amdgpu 3.8 ms, loop 1.3 ms, which includes
// indexing the new base). The new base is re-parsed between iterations
// (untimed), so every timed relocation builds its base index from scratch as
// libbpf does: no state carries over. Without --dist-base the module is
// distilled on NEWBASE first (untimed).
import { join } from "node:path";
import { defaultBase, readRawBtf } from "../lib.mjs";

export default {
  name: "relocate",
  usage: "relocate MODULE --base NEWBASE [--dist-base DB]",
  options: { base: "string", "dist-base": "string" },
  positionals: [1, 1],
  order: 40,
  suite(root) {
    const base = join(root.dir, "k61-50/vmlinux.btf.gz");
    const mods = root.name === "corpus" ? ["amdgpu", "loop"] : ["bridge", "loop"];
    return mods.map((m) => [join(root.dir, "k61-50/modules", m + root.moduleExt), "--base", base]);
  },
  async setup(lib, [file], opts) {
    const nb = await readRawBtf(lib, defaultBase(file, opts.base));
    const { bytes } = await readRawBtf(lib, file);
    let dist, split, owned = [];
    if (opts["dist-base"]) {
      dist = lib.Btf.parse((await readRawBtf(lib, opts["dist-base"])).bytes);
      split = lib.Btf.parse(bytes, { base: dist });
    } else {
      const built = lib.Btf.parse(nb.bytes);
      const mod = lib.Btf.parse(bytes, { base: built });
      const d = lib.distill(mod);
      owned = [mod, built];
      dist = d.base;
      split = d.split;
    }
    return { lib, nbBytes: nb.bytes, newBase: lib.Btf.parse(nb.bytes), dist, split, owned, label: file, inputBytes: bytes.length, residentInputBytes: bytes.length + 2 * nb.bytes.length };
  },
  run: (s) => s.lib.relocate(s.split, s.newBase),
  release(s, r) {
    r.btf.free();
    s.newBase.free();
    s.newBase = s.lib.Btf.parse(s.nbBytes);
  },
  describe: (s) => ({ distilled_base_types: s.dist.typeCount - 1, split_types: s.split.typeCount - s.split.startId }),
  teardown(s) { s.split.free(); s.dist.free(); s.newBase.free(); for (const b of s.owned) b.free(); },
};
