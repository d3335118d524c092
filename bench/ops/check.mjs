// check MODULE... --kernel K... --built-against B: the whole `btfkit check`
// job from bytes in memory, parsing included: parse each kernel once, then
// per module parse, distill and relocate onto every kernel (libbpf's
// in-process way takes 1.26 s for 250 modules x 3 kernels). Everything is
// parsed inside the timing, so nothing carries over between iterations.
import { join } from "node:path";
import { readdirSync, existsSync } from "node:fs";
import { readRawBtf } from "../lib.mjs";

export default {
  name: "check",
  usage: "check MODULE... --kernel K... --built-against B",
  options: { kernel: "multi", "built-against": "string" },
  positionals: [1, 100000],
  order: 60,
  suite(root) {
    const dir = join(root.dir, "k61-50/modules");
    const mods = readdirSync(dir).filter((f) => f.endsWith(root.moduleExt)).map((f) => join(dir, f));
    const ks = ["k61-50", "k61-47", "k61-50-cloud"].map((k) => join(root.dir, k, "vmlinux.btf.gz")).filter(existsSync);
    return [[...mods, "--built-against", ks[0], ...ks.flatMap((k) => ["--kernel", k])]];
  },
  async setup(lib, files, opts) {
    const kernels = [];
    for (const k of opts.kernel) kernels.push({ name: k, bytes: (await readRawBtf(lib, k)).bytes });
    const builtPath = opts["built-against"];
    const modules = [];
    for (const f of files) modules.push({ name: f, bytes: (await readRawBtf(lib, f)).bytes });
    const inputBytes = modules.reduce((n, m) => n + m.bytes.length, 0);
    return { lib, kernels, builtPath, modules, label: `${files.length} modules x ${kernels.length} kernels`, inputBytes, residentInputBytes: inputBytes + kernels.reduce((n, k) => n + k.bytes.length, 0) };
  },
  run(s) {
    const parsed = new Map();
    const kernels = s.kernels.map((k) => {
      let btf = parsed.get(k.name);
      if (!btf) parsed.set(k.name, (btf = s.lib.Btf.parse(k.bytes)));
      return { name: k.name, btf, raw: k.bytes };
    });
    const built = kernels.find((k) => k.name === s.builtPath) ?? { name: s.builtPath, btf: s.lib.Btf.parse(s.kernels.find((k) => k.name === s.builtPath).bytes) };
    const checker = new s.lib.Checker(kernels, { builtAgainst: built });
    for (const m of s.modules) checker.checkModule({ name: m.name, raw: m.bytes });
    const report = checker.finish();
    return { report, parsed };
  },
  release(_s, r) { for (const b of r.parsed.values()) b.free(); },
  describe: (s) => ({ pairs: s.modules.length * s.kernels.length }),
  teardown() {},
};
