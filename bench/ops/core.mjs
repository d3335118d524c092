// core OBJ... --kernel K [--module M]...: the whole `btfkit core` job from
// bytes in memory, parsing included: parse the kernel's vmlinux BTF, open
// each BPF object, resolve every CO-RE record as libbpf does (candidates
// through the name index, vmlinux first, module BTFs parsed and searched only
// when some object has a type vmlinux lacks) and render the golden TSV. The
// libbpf figure it compares with is a C program over libbpf's own resolver
// (bpf_core_add_cands + bpf_core_calc_relo_insn + bpf_core_patch_insn) doing
// the same job: ~0.31 s as a whole process for 116 objects x 250 modules.
import { join, basename } from "node:path";
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { readRawBtf } from "../lib.mjs";

export default {
  name: "core",
  usage: "core OBJ... --kernel K [--module M]...",
  options: { kernel: "string", module: "multi" },
  positionals: [1, 100000],
  order: 70,
  suite(root) {
    const dir = join(root.dir, "bpf/libbpf-tools");
    if (!existsSync(dir)) return [];
    const objs = readdirSync(dir).filter((f) => f.endsWith(".bpf.o")).map((f) => join(dir, f));
    const mdir = join(root.dir, "k61-50/modules");
    const mods = readdirSync(mdir).filter((f) => f.endsWith(root.moduleExt)).sort().map((f) => join(mdir, f));
    return [[...objs, "--kernel", join(root.dir, "k61-50/vmlinux.btf.gz"), ...mods.flatMap((m) => ["--module", m])]];
  },
  async setup(lib, files, opts) {
    if (!opts.kernel) throw new Error("core needs --kernel K");
    const kernel = (await readRawBtf(lib, opts.kernel)).bytes;
    const modules = [];
    for (const m of opts.module ?? []) modules.push({ name: basename(m).replace(/\.btf(\.gz)?$/, ""), bytes: (await readRawBtf(lib, m)).bytes });
    const objects = files.map((f) => ({ name: basename(f), bytes: new Uint8Array(readFileSync(f)) }));
    const inputBytes = objects.reduce((n, o) => n + o.bytes.length, 0);
    return {
      lib, kernel, modules, objects,
      label: `${objects.length} objects x ${modules.length} modules`,
      inputBytes,
      residentInputBytes: inputBytes + kernel.length + modules.reduce((n, m) => n + m.bytes.length, 0),
    };
  },
  run(s) {
    const v = s.lib.Btf.parse(s.kernel);
    let mods;
    const modules = () => (mods ??= s.modules.map((m) => ({ name: m.name, btf: s.lib.Btf.parse(m.bytes, { base: v }) })));
    let bytes = 0;
    for (const o of s.objects) {
      const obj = s.lib.BpfObject.open(o.bytes, o.name);
      bytes += s.lib.resolveCoreTsv(obj, v, { modules }).length;
      obj.free();
    }
    return { v, mods: mods ?? [], bytes };
  },
  release(_s, r) {
    for (const m of r.mods) m.btf.free();
    r.v.free();
  },
  describe: (s) => ({ objects: s.objects.length, modules: s.modules.length }),
  teardown() {},
};
