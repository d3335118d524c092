// CO-RE relocation (btfkit core / resolveCore). The hand-built cases under
// test/fixtures/core/ (sources, clang command and how the expected answers were made, in its README) cover
// what the corpus objects do not: module-only types, modules agreeing and
// disagreeing, pruning that changes a later record, bitfields too big,
// nesting too deep, ambiguous offsets and sizes, 64-bit and signed enum
// values, type_matches, malformed records. Their expected TSVs come from
// libbpf f7081a6's own resolver (run by a local harness, see test/fixtures/core/README.md), not from btfkit.
import { describe, it, expect, beforeAll } from "vitest";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, mkdirSync, copyFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import {
  init, Btf, BtfError, BpfObject, resolveCore, resolveCoreTsv, resolveCoreMatrix, coreNeedsModules, coreTsvLine,
  CORE_TSV_HEADER, elfBtfSections, loadBtfSync,
} from "../src/index.js";
import { fixture, fixturePath, cli, HAS_CORPUS, CORPUS, GOLDEN, corpusModules } from "./helpers.js";

beforeAll(async () => { await init(); });

const dec = new TextDecoder();
const kernel = (k: string, base?: Btf) => Btf.parse(fixture(`core/kernels/${k}.btf.gz`), base ? { base } : {});
const obj = (o: string) => fixture(`core/objs/${o}.o.gz`);
const CASES: string[][] = [["k1", "mod_a", "mod_b"], ["k1", "mod_b", "mod_a"], ["k1"], ["k2"], ["k3"], ["k4"], ["k5"]];
const OBJS = ["prog", "prog-tm", "prog-bad", "prog2"];

function load(c: string[]) {
  const v = kernel(c[0]);
  const mods = c.slice(1).map((m) => ({ name: m, btf: kernel(m, v) }));
  return { v, mods };
}

describe("CO-RE resolver on hand-built objects, against libbpf's own resolver", () => {
  it("renders exactly libbpf's answer for every record (TSV from the core, and from the typed records)", () => {
    let n = 0;
    for (const c of CASES) {
      const { v, mods } = load(c);
      for (const o of OBJS) {
        const want = dec.decode(fixture(`core/expected/${c.join("+")}/${o}.o.tsv`));
        const b = BpfObject.open(obj(o), `${o}.o`);
        expect(dec.decode(resolveCoreTsv(b, v, { modules: mods })), `${c.join("+")} ${o}`).toBe(want);
        const r = resolveCore(b, v, { modules: mods });
        expect([CORE_TSV_HEADER, ...r.records.map(coreTsvLine)].join("\n") + "\n").toBe(want);
        n += r.records.length;
        b.free();
      }
    }
    console.log(`core: ${n} hand-built records equal libbpf's`);
    expect(n).toBeGreaterThan(1000);
  });

  it("resolves a big-endian object exactly as its little-endian twin", () => {
    const v = kernel("k1");
    const le = resolveCore(obj("prog"), v, { name: "x" });
    const be = resolveCore(obj("prog-be"), v, { name: "x" });
    expect(be.records.map(coreTsvLine)).toEqual(le.records.map(coreTsvLine));
  });

  it("keeps one candidate list per local type, pruned by each matching record", () => {
    const { v, mods } = load(["k1", "mod_a", "mod_b"]);
    const r = resolveCore(obj("prog"), v, { modules: mods });
    const pr = r.records.filter((x) => x.localName === "pr");
    // pr.z only exists in pr___b: 2 candidates, 1 matches; the list is cut to it,
    // so pr.y (only in pr) then finds no match among the 1 left and is poisoned.
    expect(pr.map((x) => [x.access, x.cands, x.matched, x.status])).toEqual([
      ["0:2", 2, 1, "ok"], ["0:1", 1, 0, "poison"], ["0:0", 1, 1, "ok"],
    ]);
    expect(pr[0].targId).toBe(v.find("pr___b")[0]);
  });

  it("searches modules only when vmlinux has no candidate, in the order given, with split ids", () => {
    const { v, mods } = load(["k1", "mod_a", "mod_b"]);
    const r = resolveCore(obj("prog"), v, { modules: mods });
    const nv = r.records.filter((x) => x.localName === "nvme_ctrl" && x.kind === "byte_off");
    expect(nv[0].targBtf).toBe("mod_a");
    expect(nv[0].cands).toBe(2);
    expect(nv[0].matched).toBe(2);
    expect(nv[0].targId).toBeGreaterThanOrEqual(v.typeCount);
    expect(nv[0].targId).toBe(mods[0].btf.find("nvme_ctrl")[0]);
    const dis = r.records.find((x) => x.localName === "disagree")!;
    expect([dis.status, dis.reason]).toEqual(["error", "field_offset_ambiguity"]);
    const swapped = resolveCore(obj("prog"), v, { modules: [mods[1], mods[0]] });
    expect(swapped.records.find((x) => x.localName === "nvme_ctrl")!.targBtf).toBe("mod_b");
    // task lives in vmlinux: modules are never consulted for it.
    expect(r.records.filter((x) => x.localName === "task" && x.targBtf).every((x) => x.targBtf === "vmlinux")).toBe(true);
  });

  it("asks for the module BTFs only when some type is missing from vmlinux", () => {
    const v = kernel("k1");
    const b = BpfObject.open(obj("prog"));
    expect(coreNeedsModules(b, v)).toBe(true);
    b.free();
    // A corpus object whose types all are in the fixture vmlinux.
    const k = Btf.parse(fixture("k61-50/vmlinux.btf.gz"));
    let called = 0;
    const r = resolveCore(fixture("core/corpus/ksnoop.bpf.o.gz"), k, { modules: () => { called++; return []; } });
    expect(called).toBe(0);
    expect(r.modulesSearched).toBe(false);
  });

  it("reports every failing record and goes on (libbpf stops at the first)", () => {
    const { v, mods } = load(["k1", "mod_a", "mod_b"]);
    const r = resolveCore(obj("prog-bad"), v, { modules: mods });
    const errs = r.records.filter((x) => x.status === "error").map((x) => x.reason);
    expect(errs).toEqual(expect.arrayContaining(["bad_local_spec", "unexpected_kind", "anon_type", "cand_search_failed", "field_offset_ambiguity"]));
    expect(r.ok).toBe(false);
    expect(r.records.filter((x) => x.status === "ok").length).toBeGreaterThan(40);
    const k2 = resolveCore(obj("prog"), kernel("k2"));
    expect(k2.records.filter((x) => x.reason === "bitfield_too_big").map((x) => x.errno)).toEqual([7, 7]);
    const k3 = resolveCore(obj("prog"), kernel("k3"));
    const deep = k3.records.find((x) => x.reason === "cand_match_error")!;
    expect([deep.localName, deep.access, deep.errno]).toEqual(["nest", "0:1:0:0", 7]);
  });

  it("gives 64-bit and sign-extended enum values as unsigned 64-bit numbers", () => {
    // k4 (built with BtfBuilder) has ENUM64 types: signed, unsigned, one standing for a local ENUM.
    const r = resolveCore(obj("prog"), kernel("k4"));
    const byName = (n: string, a: string) => r.records.find((x) => x.kind === "enumval_value" && x.localName === n && x.access === a)!;
    expect(byName("neg", "0").newVal).toBe(2n ** 64n - 7n);
    expect(byName("neg", "0").origVal).toBe(2n ** 64n - 3n);
    expect(byName("big64", "1").newVal).toBe(0xfedcba9876543210n);
    // clang 14 wrote the local enum as 32-bit ENUM: the ldimm64 holds more than the local value says.
    expect([byName("big64", "1").patch, byName("big64", "1").reason]).toEqual(["error", "insn_value_mismatch"]);
    expect(byName("color", "2").newVal).toBe(2n ** 64n - 1n);
    expect(byName("color", "2").insn).toBe("18010000ffffffff00000000ffffffff");
    const k1 = resolveCore(obj("prog"), kernel("k1"));
    expect(k1.records.find((x) => x.kind === "enumval_value" && x.localName === "color" && x.access === "1")!.newVal).toBe(20n);
  });

  it("matches the corpus goldens for vendored objects on the fixture vmlinux", () => {
    const k = Btf.parse(fixture("k61-50/vmlinux.btf.gz"));
    let n = 0;
    for (const f of readdirSync(fixturePath("core/corpus")).filter((f) => f.endsWith(".o.gz"))) {
      const name = f.replace(/\.gz$/, "");
      const b = BpfObject.open(fixture(`core/corpus/${f}`), name);
      const want = dec.decode(fixture(`core/corpus/${name}.tsv`));
      expect(dec.decode(resolveCoreTsv(b, k, { modules: [] })), name).toBe(want);
      n += b.recordCount;
      b.free();
    }
    expect(n).toBe(100);
  });

  it("builds the object x kernel matrix", () => {
    const m = resolveCoreMatrix([{ name: "prog.o", bytes: obj("prog") }], [
      { name: "k1", vmlinux: kernel("k1") }, { name: "k2", vmlinux: kernel("k2") }, { name: "k3", vmlinux: kernel("k3") },
    ]);
    expect(m.results.map((r) => [r.kernel, r.ok])).toEqual([["k1", false], ["k2", false], ["k3", false]]);
    expect(m.results[0].sections.map((s) => s.name)).toContain("kprobe/types");
    expect(m.ok).toBe(false);
  });
});

describe("BPF objects that lie give typed errors with offsets", () => {
  const base = () => new Uint8Array(obj("prog"));
  const coreRecs = (b: Uint8Array) => {
    const s = elfBtfSections(b).btfExt!;
    const dv = new DataView(b.buffer, b.byteOffset);
    const start = s.offset + s.hdrLen + s.coreRelo.off;
    return { dv, start, recSize: dv.getUint32(start, true), first: start + 4 };
  };
  const err = (b: Uint8Array): BtfError => {
    try { BpfObject.open(b).free(); } catch (e) { return e as BtfError; }
    throw new Error("no error");
  };

  it("refuses a record size that does not fit the sub-section", () => {
    const b = base();
    const { dv, start } = coreRecs(b);
    dv.setUint32(start, 20, true);
    const e = err(b);
    expect(e.code).toBe("BAD_BTF_EXT");
    expect(e.offset).toBeGreaterThan(start);
  });

  it("refuses an instruction offset past its section, at the record", () => {
    const b = base();
    const { dv, first } = coreRecs(b);
    const rec = first + 8;
    dv.setUint32(rec, 0x100000, true);
    const e = err(b);
    expect([e.code, e.offset]).toEqual(["BAD_BTF_EXT", rec]);
    expect(e.message).toMatch(/past the end of section/);
    dv.setUint32(rec, 4, true);
    expect(err(b).message).toMatch(/not a multiple of 8/);
  });

  it("refuses records for a section the object does not have", () => {
    const b = base();
    const { dv, first } = coreRecs(b);
    const local = Btf.parse(b.slice(elfBtfSections(b).btf.offset, elfBtfSections(b).btf.offset + elfBtfSections(b).btf.size));
    dv.setUint32(first, local.type(local.find("task")[0]).nameOff, true);
    const e = err(b);
    expect([e.code, e.offset]).toEqual(["BAD_BTF_EXT", first]);
    expect(e.message).toMatch(/'task', which the object does not have/);
  });

  it("refuses a truncated .BTF.ext", () => {
    const b = base();
    const s = elfBtfSections(b).btfExt!;
    const dv = new DataView(b.buffer);
    // Shrink the section header's sh_size: the sub-sections no longer add up.
    const shoff = Number(dv.getBigUint64(40, true));
    const shdr = shoff + s.index * 64;
    dv.setBigUint64(shdr + 32, BigInt(s.size - 8), true);
    expect(err(b).code).toBe("BAD_BTF_EXT");
  });

  it("refuses what is not an ELF object", () => {
    expect(err(fixture("core/kernels/k1.btf.gz")).code).toBe("BAD_ELF");
  });
});

describe("btfkit core", () => {
  it("prints the golden TSV, writes DIR/<obj>.tsv, and exits 1 when libbpf would refuse", () => {
    const dir = mkdtempSync(join(tmpdir(), "btfkit-core-"));
    const o = join(dir, "prog.o");
    writeFileSync(o, obj("prog"));
    for (const k of ["k1", "mod_a", "mod_b"]) writeFileSync(join(dir, `${k}.btf`), fixture(`core/kernels/${k}.btf.gz`));
    const r = cli(["core", o, "--kernel", join(dir, "k1.btf"), "--module", join(dir, "mod_a.btf"), "--module", join(dir, "mod_b.btf"), "--format", "tsv", "-o", join(dir, "out")]);
    expect(r.code).toBe(1);
    expect(readFileSync(join(dir, "out/prog.o.tsv"), "utf8")).toBe(dec.decode(fixture("core/expected/k1+mod_a+mod_b/prog.o.tsv")).replace(/^prog\.o/gm, "prog.o"));
    // A /sys/kernel/btf-style directory: vmlinux plus one file per module (sorted).
    const sys = join(dir, "sys");
    mkdirSync(sys);
    copyFileSync(join(dir, "k1.btf"), join(sys, "vmlinux"));
    copyFileSync(join(dir, "mod_a.btf"), join(sys, "mod_a"));
    copyFileSync(join(dir, "mod_b.btf"), join(sys, "mod_b"));
    const d = cli(["core", o, "--kernel", sys, "--format", "tsv"]);
    expect(d.stdout.toString()).toBe(readFileSync(join(dir, "out/prog.o.tsv"), "utf8"));
    const t = cli(["core", o, "--kernel", sys]);
    expect(t.stdout.toString()).toMatch(/kprobe\/cands: 10 relocations, refused/);
    expect(t.stdout.toString()).toMatch(/poisoned: struct pr\.y \(byte_off, access 0:1\): no such field in the kernel's struct pr \(1 candidate\); instruction \d+ of kprobe\/cands poisoned/);
    const j = cli(["core", o, "--kernel", sys, "--kernel", join(dir, "k1.btf"), "--json"]);
    const rep = JSON.parse(j.stdout.toString());
    expect(rep.results.map((x: { kernel: string }) => x.kernel)).toEqual([sys, join(dir, "k1.btf")]);
    expect(cli(["core", o]).code).toBe(2);
    expect(cli(["core", join(dir, "k1.btf"), "--kernel", join(dir, "k1.btf")]).code).toBe(2);
  });

  it("exits 0 when every record resolves, 1 under --strict when an instruction is poisoned", () => {
    const dir = mkdtempSync(join(tmpdir(), "btfkit-core-"));
    const o = join(dir, "biolatency.bpf.o");
    writeFileSync(o, fixture("core/corpus/biolatency.bpf.o.gz"));
    const k = fixturePath("k61-50/vmlinux.btf.gz");
    expect(cli(["core", o, "--kernel", k, "--format", "tsv"]).code).toBe(0);
    expect(cli(["core", o, "--kernel", k, "--strict"]).code).toBe(1);
  });
});

describe("CO-RE corpus conformance", () => {
  it.runIf(HAS_CORPUS)("every record of every libbpf-tools object on k61-50 with its modules equals the golden", () => {
    const k = loadBtfSync(readFileSync(join(CORPUS, "k61-50/vmlinux.btf.gz")));
    let mods: { name: string; btf: Btf }[] | undefined;
    const modules = () => (mods ??= corpusModules("k61-50").sort().map((m) => ({ name: m, btf: Btf.parse(readFileSync(join(CORPUS, "k61-50/modules", `${m}.btf`)), { base: k }) })));
    const dir = join(CORPUS, "bpf/libbpf-tools");
    let n = 0;
    for (const f of readdirSync(dir).filter((f) => f.endsWith(".bpf.o"))) {
      const b = BpfObject.open(readFileSync(join(dir, f)), f);
      const want = readFileSync(join(GOLDEN, "core/k61-50", `${f}.tsv`), "utf8");
      expect(dec.decode(resolveCoreTsv(b, k, { modules })), f).toBe(want);
      n += want.split("\n").filter((l) => l && !l.startsWith("#")).length;
      b.free();
    }
    console.log(`core corpus conformance: ${n} records of ${readdirSync(dir).filter((f) => f.endsWith(".bpf.o")).length} objects checked`);
    expect(n).toBe(1510);
  });
  it.runIf(!HAS_CORPUS)("is skipped without ../shared (0 cases checked)", () => { console.log("core corpus conformance: 0 cases (no ../shared/corpus)"); });
});


