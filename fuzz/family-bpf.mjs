// Family "bpf": mutated BPF objects (.bpf.o) through the CO-RE reader and
// resolver, in the order `btfkit core` calls them: BpfObject.open,
// coreNeedsModules, resolveCore (typed records, with module BTFs given
// lazily) and resolveCoreTsv (the core's own TSV renderer, what
// `--format tsv` prints), then coreReportJson (what `--json` and the
// service's POST /core answer). Seeds: the vendored hand-built objects
// (test/fixtures/core/objs, little- and big-endian, resolved on k1 with the
// modules mod_a and mod_b) and the vendored libbpf-tools objects
// (test/fixtures/core/corpus, on the k61-50 fixture vmlinux), plus, when
// ../shared is present (not under FUZZ_NO_CORPUS), 12 more libbpf-tools
// objects. Mutations: fuzz/mutators-bpf.mjs, and the ELF-structure
// mutators of mutators-elf.mjs. One case in 64 also runs the CLI itself
// (`node dist/cli.js core OBJ --kernel K`, k1 as a /sys/kernel/btf folder
// with its modules) and checks its exit code against the API's verdict: 2
// with the same error code when the object is refused, else 1 exactly when a
// record is a resolver error; never an internal error. Invariants beyond the harness's: the two
// renderers agree (the core's TSV equals the typed records' lines), both
// fail alike, every refusal of the object but NO_BTF carries a byte offset,
// and the input buffer is not modified.
import { readFileSync, readdirSync, existsSync, mkdtempSync, mkdirSync, writeFileSync, rmSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { gunzipSync } from "node:zlib";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { bpfLayoutOf, BPF_MUTATORS, BPF_MUTATOR_NAMES } from "./mutators-bpf.mjs";
import { elfLayoutOf, ELF_MUTATORS } from "./mutators-elf.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const CORE = join(ROOT, "test/fixtures/core");
const gz = (p) => new Uint8Array(gunzipSync(readFileSync(p)));
const ELF_STRUCTURE = ["shField", "ehdrField", "overlapSections", "truncateAtSection", "btfPayload"];
const dec = new TextDecoder();

function equal(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export const bpfFamily = {
  name: "bpf",
  setup(ctx) {
    const { api, base } = ctx;
    const k1 = api.Btf.parse(gz(join(CORE, "kernels/k1.btf.gz")));
    const mods = ["mod_a", "mod_b"].map((m) => ({ name: m, btf: api.Btf.parse(gz(join(CORE, `kernels/${m}.btf.gz`)), { base: k1 }) }));
    const seeds = [];
    const add = (name, bytes, kernel) => seeds.push({ name, bytes, kernel, layout: bpfLayoutOf(bytes), elfLayout: elfLayoutOf(bytes) });
    for (const f of readdirSync(join(CORE, "objs")).sort()) add(f.replace(/\.gz$/, ""), gz(join(CORE, "objs", f)), "k1");
    for (const f of readdirSync(join(CORE, "corpus")).filter((f) => f.endsWith(".gz")).sort()) add(f.replace(/\.gz$/, ""), gz(join(CORE, "corpus", f)), "k61-50");
    const C = process.env.FUZZ_NO_CORPUS ? "/nonexistent" : join(ROOT, "../shared/corpus/bpf/libbpf-tools");
    if (existsSync(C)) {
      for (const f of readdirSync(C).filter((f) => f.endsWith(".bpf.o") && !seeds.some((s) => s.name === f)).sort().slice(0, 12)) {
        add(f, new Uint8Array(readFileSync(join(C, f))), "k61-50");
      }
    }
    const kernels = { k1: { vmlinux: k1, modules: mods }, "k61-50": { vmlinux: base, modules: [] } };
    // The CLI's inputs: k1 laid out like /sys/kernel/btf, k61-50's fixture vmlinux as it is.
    let cli = null;
    const cliJs = join(ROOT, "dist/cli.js");
    if (existsSync(cliJs)) {
      const dir = mkdtempSync(join(tmpdir(), "btfkit-fuzz-bpf-"));
      process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
      mkdirSync(join(dir, "k1"));
      writeFileSync(join(dir, "k1/vmlinux"), gz(join(CORE, "kernels/k1.btf.gz")));
      for (const m of ["mod_a", "mod_b"]) writeFileSync(join(dir, "k1", m), gz(join(CORE, `kernels/${m}.btf.gz`)));
      cli = { js: cliJs, dir, kernel: { k1: join(dir, "k1"), "k61-50": join(ROOT, "test/fixtures/k61-50/vmlinux.btf.gz") } };
    }
    return { seeds, kernels, cli };
  },
  run(st, rng, cs, ctx) {
    const { api } = ctx;
    const s = rng.pick(st.seeds);
    let bytes = s.bytes;
    const applied = [];
    for (let k = 0, n = 1 + rng.int(3); k < n; k++) {
      // Mostly the object's own structures; a quarter of the time the ELF's.
      const elf = rng.chance(0.25);
      const m = elf ? rng.pick(ELF_STRUCTURE) : rng.pick(BPF_MUTATOR_NAMES);
      applied.push(m);
      // Layouts are of the seed; after a first mutation they may be stale, which is fine for fuzzing.
      bytes = elf ? ELF_MUTATORS[m](bytes, rng, s.elfLayout) : BPF_MUTATORS[m](bytes, rng, s.layout);
    }
    cs.describe(`seedfile=${s.name} mutators=${applied.join("+")}`);
    const input = bytes.slice();
    const k = st.kernels[s.kernel];
    const viaCli = st.cli && rng.int(64) === 0;
    const opened = cs.try("BpfObject.open", () => {
      try {
        return api.BpfObject.open(bytes, s.name);
      } catch (e) {
        // A bad object names the byte that lied (a file without .BTF has no such byte).
        if (e instanceof api.BtfError && e.code !== "NO_BTF" && e.offset === undefined) cs.finding(`${e.code} without a byte offset: ${e.message}`);
        throw e;
      }
    });
    if (!equal(bytes, input)) cs.finding("BpfObject.open modified its input");
    if (!opened.ok) {
      if (viaCli) runCli(st, s, bytes, cs, { code: opened.code });
      return opened.code;
    }
    const obj = opened.value;
    try {
      const needs = cs.try("coreNeedsModules", () => api.coreNeedsModules(obj, k.vmlinux));
      if (!needs.ok) return `needs:${needs.code}`;
      let asked = 0;
      const modules = () => { asked++; return k.modules; };
      const rec = cs.try("resolveCore", () => api.resolveCore(obj, k.vmlinux, { modules, name: s.name, kernelName: s.kernel }));
      if (rec.ok && asked !== (needs.value ? 1 : 0)) cs.finding(`modules asked ${asked} times, coreNeedsModules said ${needs.value}`);
      const tsv = cs.try("resolveCoreTsv", () => api.resolveCoreTsv(obj, k.vmlinux, { modules: k.modules, name: s.name }));
      if (rec.ok !== tsv.ok || (!rec.ok && rec.code !== tsv.code)) cs.finding(`resolveCore ${rec.ok ? "ok" : rec.code} but resolveCoreTsv ${tsv.ok ? "ok" : tsv.code}`);
      if (viaCli) runCli(st, s, bytes, cs, rec.ok ? { refused: !rec.value.ok } : { code: rec.code });
      if (!rec.ok) return `resolve:${rec.code}`;
      const report = rec.value;
      const lines = [api.CORE_TSV_HEADER, ...report.records.map(api.coreTsvLine)].join("\n") + "\n";
      if (tsv.ok && dec.decode(tsv.value) !== lines) cs.finding("the core's TSV and the typed records' lines differ");
      const json = cs.try("coreReportJson", () => api.coreReportJson([report]));
      if (cs.checkDeterminism) {
        const again = cs.try("resolveCore (again)", () => api.resolveCore(obj, k.vmlinux, { modules: k.modules, name: s.name, kernelName: s.kernel }));
        if (again.ok && json.ok && api.coreReportJson([again.value]) !== json.value) cs.finding("resolveCore is not deterministic");
        const tsv2 = cs.try("resolveCoreTsv (again)", () => api.resolveCoreTsv(obj, k.vmlinux, { modules: k.modules, name: s.name }));
        if (tsv.ok && tsv2.ok && !cs.same(tsv.value, tsv2.value)) cs.finding("resolveCoreTsv is not deterministic");
      }
      if (!equal(bytes, input)) cs.finding("resolving modified the input");
      return report.ok ? (report.clean ? "accepted" : "accepted-poisoned") : "accepted-refused";
    } finally {
      obj.free();
    }
  },
};

/** `btfkit core` on the mutated file: its exit code and message must say what the API said. */
function runCli(st, s, bytes, cs, want) {
  const obj = join(st.cli.dir, "case.bpf.o");
  writeFileSync(obj, bytes);
  const r = spawnSync(process.execPath, [st.cli.js, "core", obj, "--kernel", st.cli.kernel[s.kernel], "--format", "json"], { encoding: "utf8", maxBuffer: 64 << 20 });
  if (/internal error/.test(r.stderr)) cs.finding(`the CLI failed internally: ${r.stderr.split("\n")[0]}`);
  const expected = want.code ? 2 : want.refused ? 1 : 0;
  if (r.status !== expected) cs.finding(`the CLI exited ${r.status} where the API says ${want.code ?? (want.refused ? "refused" : "loads")}: ${r.stderr.split("\n")[0]}`);
  else if (want.code && !r.stderr.includes(want.code)) cs.finding(`the CLI's error does not name ${want.code}: ${r.stderr.split("\n")[0]}`);
}
