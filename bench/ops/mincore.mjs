// min-core OBJ... --kernel KERNEL [--module MOD]... [--no-verify]: tailored
// BTF for the objects on one kernel (libbpf's resolver per record, marking,
// writing the output; with verify, the default, every object is resolved
// again against the output). bpftool gen min_core_btf takes ~65 ms for the
// ten golden objects on k61-50 as a whole process, reading and parsing
// included; here reading the files, parsing the kernel and opening the
// objects are outside the timing (see README for whole-process figures).
import { join, basename } from "node:path";
import { readFileSync } from "node:fs";
import { readRawBtf } from "../lib.mjs";

const GOLDEN_OBJS = ["memleak", "tcptracer", "opensnoop", "bindsnoop", "klockstat", "biolatency", "mountsnoop", "filelife", "biosnoop", "runqslower"];

export default {
  name: "min-core",
  usage: "min-core OBJ... --kernel KERNEL [--module MOD]... [--no-verify]",
  options: { kernel: "string", module: "multi", "no-verify": "bool" },
  positionals: [1, Infinity],
  order: 80,
  suite(root) {
    if (root.name !== "corpus") return [];
    const k = join(root.dir, "k61-50/vmlinux.btf.gz");
    return [[...GOLDEN_OBJS.map((m) => join(root.dir, "bpf/libbpf-tools", `${m}.bpf.o`)), "--kernel", k]];
  },
  async setup(lib, objs, opts) {
    if (!opts.kernel) throw new Error("min-core needs --kernel");
    const k = await readRawBtf(lib, opts.kernel);
    const kernel = lib.Btf.parse(k.bytes);
    let resident = k.bytes.length;
    const modules = [];
    for (const m of opts.module ?? []) {
      const { bytes } = await readRawBtf(lib, m);
      resident += bytes.length;
      modules.push({ name: basename(m).replace(/(\.btf)?(\.gz)?$/, ""), btf: lib.Btf.parse(bytes, { base: kernel }) });
    }
    const objects = objs.map((p) => lib.BpfObject.open(new Uint8Array(readFileSync(p)), basename(p)));
    return {
      lib, kernel, modules, objects, verify: !opts["no-verify"],
      label: `${objs.length} objects on ${opts.kernel}${modules.length ? ` + ${modules.length} modules` : ""}`,
      inputBytes: k.bytes.length, residentInputBytes: resident,
    };
  },
  run: (s) => s.lib.minCore(s.objects, s.kernel, { modules: s.modules.length ? s.modules : undefined, verify: s.verify }),
  release() {},
  describe: (s) => ({ objects: s.objects.length, verify: s.verify }),
  teardown(s) {
    for (const o of s.objects) o.free();
    for (const m of s.modules) m.btf.free();
    s.kernel.free();
  },
};
