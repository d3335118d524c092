// Distill and relocate: byte parity with libbpf (fixtures always, the whole
// corpus when present), the kernel selftest vector (tools/testing/selftests/bpf/
// prog_tests/btf_distill.c, test_distilled_base), and the
// failure reasons on made-up bases.
import { describe, it, expect, beforeAll } from "vitest";
import { existsSync, readFileSync, readdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import {
  init, Btf, distill, relocate, relocationProblems, relocationMapText, RelocationError, BtfError,
  type RelocationProblem,
} from "../src/index.js";
import { wasm, copyInCString } from "../src/core.js";
import {
  fixture, fixtureModules, fixtureExists, fixturePath, equalBytes, firstDiff, HAS_CORPUS, CORPUS, GOLDEN,
  readMaybeGz, corpusModules, cli,
} from "./helpers.js";

beforeAll(async () => { await init(); });

const dec = new TextDecoder();

/** Builds BTF through the core's builder (libbpf btf__add_* style). */
class Builder {
  private h: number;
  constructor(private base?: Btf) { this.h = wasm().builderNew(base ? base.handle : -1); }
  str(s: string): number {
    if (s === "") return 0;
    const c = wasm();
    const p = copyInCString(s, c);
    const off = Number(c.builderAddStr(this.h, p));
    c.memFree(p);
    return off;
  }
  private add(kind: number, name: string, sizeOrType: number, kflag = false, vlen = 0, a = 0, b = 0, c = 0): number {
    const id = Number(wasm().builderAddType(this.h, kind, this.str(name), sizeOrType, kflag ? 1 : 0, vlen, a, b, c));
    if (id < 0) throw new Error(`builder refused kind ${kind}`);
    return id;
  }
  private elem(w0: number, w1: number, w2 = 0): void { if (!wasm().builderAddElem(this.h, w0, w1, w2)) throw new Error("builder refused an element"); }
  int(name: string, size: number, encoding = 0): number { return this.add(1, name, size, false, 0, (encoding << 24) | (size * 8)); }
  float(name: string, size: number): number { return this.add(16, name, size); }
  ptr(t: number): number { return this.add(2, "", t); }
  konst(t: number): number { return this.add(10, "", t); }
  volatile(t: number): number { return this.add(9, "", t); }
  restrict(t: number): number { return this.add(11, "", t); }
  typedef(name: string, t: number): number { return this.add(8, name, t); }
  fwd(name: string, isUnion = false): number { return this.add(7, name, 0, isUnion); }
  array(elem: number, index: number, n: number): number { return this.add(3, "", 0, false, 0, elem, index, n); }
  composite(kind: 4 | 5, name: string, size: number, members: Array<[string, number, number]>, kflag = false): number {
    const id = this.add(kind, name, size, kflag);
    for (const [n, t, off] of members) this.elem(this.str(n), t, off);
    return id;
  }
  struct(name: string, size: number, members: Array<[string, number, number]>, kflag = false): number { return this.composite(4, name, size, members, kflag); }
  union(name: string, size: number, members: Array<[string, number, number]>): number { return this.composite(5, name, size, members); }
  enum(name: string, size: number, values: Array<[string, number]>): number {
    const id = this.add(6, name, size);
    for (const [n, v] of values) this.elem(this.str(n), v >>> 0);
    return id;
  }
  enum64(name: string, size: number, signed: boolean, values: Array<[string, number]>): number {
    const id = this.add(19, name, size, signed);
    for (const [n, v] of values) this.elem(this.str(n), v >>> 0, Math.floor(v / 2 ** 32) >>> 0);
    return id;
  }
  funcProto(ret: number, params: Array<[string, number]>): number {
    const id = this.add(13, "", ret);
    for (const [n, t] of params) this.elem(this.str(n), t);
    return id;
  }
  func(name: string, proto: number): number { return this.add(12, name, proto, false, 0); }
  variable(name: string, t: number): number { return this.add(14, name, t, false, 0, 1); }
  finish(): Btf {
    const c = wasm();
    const h = c.builderFinish(this.h);
    if (h < 0) throw new Error("builder finish failed");
    return new Btf(h, this.base);
  }
}

const lines = (b: Btf) => b.dumpRaw().trimEnd().split("\n");

/** The libbpf-named type of a golden .err file: 'NAME' [ID]. */
function libbpfNamed(err: string): { name: string; id: number } {
  const m = /type '([^']*)' \[(\d+)\]/.exec(err);
  if (!m) throw new Error(`cannot read ${err}`);
  return { name: m[1], id: Number(m[2]) };
}

function problemsOf(fn: () => unknown): RelocationProblem[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof RelocationError) return e.problems;
    throw e;
  }
  throw new Error("expected a RelocationError");
}

// ---- parity helpers shared by fixtures and corpus ---------------------------

function checkDistill(base: Btf, modBytes: Uint8Array, goldBase: Uint8Array, goldSplit: Uint8Array, label: string): void {
  const mod = Btf.parse(modBytes, { base });
  const r = distill(mod);
  const b = r.base.toBytes();
  const s = r.split.toBytes();
  expect(equalBytes(b, goldBase), `${label} distilled base differs at byte ${firstDiff(b, goldBase)}`).toBe(true);
  expect(equalBytes(s, goldSplit), `${label} new split differs at byte ${firstDiff(s, goldSplit)}`).toBe(true);
  // The id map: split types keep their order right after the distilled base.
  expect(r.idMap.length).toBe(mod.typeCount);
  expect(r.idMap[mod.startId]).toBe(r.base.typeCount);
  expect(r.idMap[mod.typeCount - 1]).toBe(r.base.typeCount + (mod.typeCount - mod.startId) - 1);
  r.split.free();
  r.base.free();
  mod.free();
}

type RelocOutcome = "ok" | "failed";

function checkRelocate(
  distBase: Uint8Array, split: Uint8Array, newBase: Btf,
  gold: { btf?: Uint8Array; map?: Uint8Array; err?: string }, label: string,
): RelocOutcome {
  const d = Btf.parse(distBase);
  const s = Btf.parse(split, { base: d });
  try {
    if (gold.err !== undefined) {
      const named = libbpfNamed(gold.err);
      const problems = problemsOf(() => relocate(s, newBase));
      expect(problems.length, label).toBeGreaterThan(0);
      const hit = problems.find((p) => p.distilledId === named.id);
      expect(hit, `${label}: libbpf names '${named.name}' [${named.id}]`).toBeDefined();
      expect(hit!.type).toBe(named.name);
      // The non-throwing form reports the same.
      expect(relocationProblems(s, newBase)).toEqual(problems);
      return "failed";
    }
    const r = relocate(s, newBase);
    const out = r.btf.toBytes();
    expect(equalBytes(out, gold.btf!), `${label} relocated BTF differs at byte ${firstDiff(out, gold.btf!)}`).toBe(true);
    if (gold.map) expect(dec.decode(relocationMapText(s, newBase, r.idMap)), `${label} map`).toBe(dec.decode(gold.map));
    expect(relocationProblems(s, newBase)).toEqual([]);
    r.btf.free();
    return "ok";
  } finally {
    s.free();
    d.free();
  }
}

// ---- fixtures -----------------------------------------------------------------

describe("distill (fixtures)", () => {
  for (const k of ["k61-50", "k61-47"]) {
    it(`matches libbpf for the ${k} fixture modules`, () => {
      const base = Btf.parse(fixture(`${k}/vmlinux.btf.gz`));
      const mods = fixtureModules(k);
      expect(mods.length).toBeGreaterThan(3);
      for (const m of mods) {
        checkDistill(base, fixture(`${k}/modules/${m}.btf.gz`), fixture(`golden/distill/${k}/${m}.base.btf.gz`),
          fixture(`golden/distill/${k}/${m}.split.btf.gz`), `${k}/${m}`);
      }
      base.free();
    });
  }
});

describe("relocate (fixtures)", () => {
  const dirs = ["k61-50__to__k61-47", "k61-47__to__k61-50", "k61-50__to__k61-50"];
  for (const dir of dirs) {
    it(`matches libbpf for ${dir}`, () => {
      const [src, dst] = dir.split("__to__");
      const newBase = Btf.parse(fixture(`${dst}/vmlinux.btf.gz`));
      const counts = { ok: 0, failed: 0 };
      for (const m of fixtureModules(src)) {
        const g = `golden/relocate/${dir}/${m}`;
        const gold = fixtureExists(`${g}.err.gz`)
          ? { err: dec.decode(fixture(`${g}.err.gz`)) }
          : { btf: fixture(`${g}.btf.gz`), map: fixture(`${g}.map.gz`) };
        counts[checkRelocate(fixture(`golden/distill/${src}/${m}.base.btf.gz`), fixture(`golden/distill/${src}/${m}.split.btf.gz`), newBase, gold, `${dir}/${m}`)]++;
      }
      if (dir === "k61-50__to__k61-50") expect(counts.failed).toBe(0);
      else expect(counts.failed).toBeGreaterThan(0); // zl10353 embeds struct device
      newBase.free();
    });
  }

  it("explains zl10353 k61-50 -> k61-47: struct device, embedded, 752 vs 744 bytes", () => {
    const d = Btf.parse(fixture("golden/distill/k61-50/zl10353.base.btf.gz"));
    const s = Btf.parse(fixture("golden/distill/k61-50/zl10353.split.btf.gz"), { base: d });
    const nb = Btf.parse(fixture("k61-47/vmlinux.btf.gz"));
    const problems = relocationProblems(s, nb);
    const dev = problems.find((p) => p.type === "device");
    expect(dev).toMatchObject({ kind: "STRUCT", reason: "size", expected: 752, found: 744 });
    expect(dev!.path).toMatch(/^struct [a-z_]+\.[a-z_]+ -> .*struct device$/);
    expect(dev!.candidates).toEqual(nb.find("device", "STRUCT"));
    const err = (() => { try { relocate(s, nb); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(BtfError);
    expect((err as BtfError).code).toBe("RELOCATE_FAILED");
    nb.free(); s.free(); d.free();
  });
});

describe("byte order", () => {
  it("distills and relocates big-endian input to the same types, written back in the input's order", () => {
    const base = Btf.parse(fixture("k61-50/vmlinux.btf.gz"));
    const baseBe = Btf.parse(base.toBytes({ endian: "big" }));
    const mod = Btf.parse(fixture("k61-50/modules/tcp_bbr.btf.gz"), { base });
    const modBe = Btf.parse(mod.toBytes({ endian: "big" }), { base: baseBe });
    const r = distill(modBe);
    expect(r.split.endian).toBe("big");
    expect(equalBytes(r.base.toBytes({ endian: "little" }), fixture("golden/distill/k61-50/tcp_bbr.base.btf.gz"))).toBe(true);
    expect(equalBytes(r.split.toBytes({ endian: "little" }), fixture("golden/distill/k61-50/tcp_bbr.split.btf.gz"))).toBe(true);
    const nb = Btf.parse(fixture("k61-47/vmlinux.btf.gz"));
    const distBe = Btf.parse(r.base.toBytes({ endian: "big" }));
    const splitBe = Btf.parse(r.split.toBytes({ endian: "big" }), { base: distBe });
    const rel = relocate(splitBe, nb);
    expect(rel.btf.endian).toBe("big");
    expect(equalBytes(rel.btf.toBytes({ endian: "little" }), fixture("golden/relocate/k61-50__to__k61-47/tcp_bbr.btf.gz"))).toBe(true);
    for (const x of [rel.btf, splitBe, distBe, nb, r.split, r.base, modBe, mod, baseBe, base]) x.free();
  });
});

describe("CLI distill/relocate", () => {
  it("writes libbpf's bytes and the golden map; on failure lists every problem, exit 1, writes nothing", () => {
    const dir = mkdtempSync(join(tmpdir(), "btfkit-transform-"));
    try {
      // Fixtures are gzipped; give the CLI raw files.
      const g = (rel: string) => { const p = join(dir, rel.replace(/\//g, "_").replace(/\.gz$/, "")); writeFileSync(p, fixture(rel)); return p; };
      const base50 = fixturePath("k61-50/vmlinux.btf.gz");
      const base47 = fixturePath("k61-47/vmlinux.btf.gz");
      const mod = g("k61-50/modules/loop.btf.gz");
      let r = cli(["distill", mod, "--base", base50, "--out-base", join(dir, "b"), "--out-split", join(dir, "s")]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(equalBytes(readFileSync(join(dir, "b")), fixture("golden/distill/k61-50/loop.base.btf.gz"))).toBe(true);
      expect(equalBytes(readFileSync(join(dir, "s")), fixture("golden/distill/k61-50/loop.split.btf.gz"))).toBe(true);
      r = cli(["relocate", join(dir, "s"), "--dist-base", join(dir, "b"), "--base", base47, "-o", join(dir, "r"), "--map", join(dir, "m")]);
      expect(r.code).toBe(0);
      expect(equalBytes(readFileSync(join(dir, "r")), fixture("golden/relocate/k61-50__to__k61-47/loop.btf.gz"))).toBe(true);
      expect(equalBytes(readFileSync(join(dir, "m")), fixture("golden/relocate/k61-50__to__k61-47/loop.map.gz"))).toBe(true);
      const zs = g("golden/distill/k61-50/zl10353.split.btf.gz");
      const zb = g("golden/distill/k61-50/zl10353.base.btf.gz");
      r = cli(["relocate", zs, "--dist-base", zb, "--base", base47, "-o", join(dir, "zr"), "--map", join(dir, "zm")]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/STRUCT 'device' \[20\]: size 752 in the distilled base, 744 in the new base/);
      expect(existsSync(join(dir, "zr"))).toBe(false);
      expect(existsSync(join(dir, "zm"))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});


// ---- the kernel selftest vector (prog_tests/btf_distill.c, test_distilled_base) ---

function selftestBase(): Btf {
  const b = new Builder();
  b.int("int", 4, 1); //                                     [1]
  b.ptr(1); //                                               [2]
  b.struct("s1", 8, [["f1", 2, 0]]); //                      [3]
  b.struct("", 12, [["f1", 1, 0], ["f2", 3, 32]]); //        [4]
  b.int("unsigned int", 4, 0); //                            [5]
  b.union("u1", 12, [["f1", 1, 0], ["f2", 2, 0]]); //        [6]
  b.union("", 4, [["f1", 1, 0]]); //                         [7]
  b.enum("e1", 4, [["v1", 1]]); //                           [8]
  b.enum("", 4, [["av1", 2]]); //                            [9]
  b.enum64("e641", 8, true, [["v1", 1024]]); //              [10]
  b.enum64("", 8, true, [["v1", 1025]]); //                  [11]
  b.struct("unneeded", 4, [["f1", 1, 0]]); //                [12]
  b.struct("embedded", 4, [["f1", 1, 0]]); //                [13]
  b.funcProto(1, [["p1", 1]]); //                            [14]
  b.array(1, 1, 3); //                                       [15]
  b.struct("from_proto", 4, [["f1", 1, 0]]); //              [16]
  b.union("u1", 4, [["f1", 1, 0]]); //                       [17]
  return b.finish();
}

function selftestSplit(base: Btf): Btf {
  const b = new Builder(base);
  b.ptr(3); //                                               [18]
  b.ptr(4); //                                               [19]
  b.konst(6); //                                             [20]
  b.restrict(7); //                                          [21]
  b.volatile(8); //                                          [22]
  b.typedef("et", 9); //                                     [23]
  b.konst(10); //                                            [24]
  b.ptr(11); //                                              [25]
  b.struct("with_embedded", 4, [["f1", 13, 0]]); //          [26]
  b.func("fn", 14); //                                       [27]
  b.typedef("arraytype", 15); //                             [28]
  b.funcProto(1, [["p1", 16]]); //                           [29]
  return b.finish();
}

describe("the kernel selftest vector", () => {
  it("distills as test_distilled_base expects and relocates back onto the original base", () => {
    const base = selftestBase();
    const split = selftestSplit(base);
    const r = distill(split);
    expect(r.base.typeCount).toBe(8);
    expect(lines(r.base)).toEqual([
      "[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED",
      "[2] STRUCT 's1' size=8 vlen=0",
      "[3] UNION 'u1' size=12 vlen=0",
      "[4] ENUM 'e1' encoding=UNSIGNED size=4 vlen=0",
      "[5] ENUM 'e641' encoding=UNSIGNED size=8 vlen=0",
      "[6] STRUCT 'embedded' size=4 vlen=0",
      "[7] STRUCT 'from_proto' size=4 vlen=0",
    ]);
    expect(lines(r.split)).toEqual([
      "[8] PTR '(anon)' type_id=2",
      "[9] PTR '(anon)' type_id=20",
      "[10] CONST '(anon)' type_id=3",
      "[11] RESTRICT '(anon)' type_id=21",
      "[12] VOLATILE '(anon)' type_id=4",
      "[13] TYPEDEF 'et' type_id=22",
      "[14] CONST '(anon)' type_id=5",
      "[15] PTR '(anon)' type_id=23",
      "[16] STRUCT 'with_embedded' size=4 vlen=1",
      "\t'f1' type_id=6 bits_offset=0",
      "[17] FUNC 'fn' type_id=24 linkage=static",
      "[18] TYPEDEF 'arraytype' type_id=25",
      "[19] FUNC_PROTO '(anon)' ret_type_id=1 vlen=1",
      "\t'p1' type_id=7",
      "[20] STRUCT '(anon)' size=12 vlen=2",
      "\t'f1' type_id=1 bits_offset=0",
      "\t'f2' type_id=2 bits_offset=32",
      "[21] UNION '(anon)' size=4 vlen=1",
      "\t'f1' type_id=1 bits_offset=0",
      "[22] ENUM '(anon)' encoding=UNSIGNED size=4 vlen=1",
      "\t'av1' val=2",
      "[23] ENUM64 '(anon)' encoding=SIGNED size=8 vlen=1",
      "\t'v1' val=1025LL", // bpftool's spelling of a signed 64-bit value (the selftest's printer omits LL)
      "[24] FUNC_PROTO '(anon)' ret_type_id=1 vlen=1",
      "\t'p1' type_id=1",
      "[25] ARRAY '(anon)' type_id=1 index_type_id=1 nr_elems=3",
    ]);
    // Old -> new ids: kept base types, copied base types, shifted split types; 0 for the rest.
    expect(Array.from(r.idMap)).toEqual([0, 1, 0, 2, 20, 0, 3, 21, 4, 22, 5, 23, 0, 6, 24, 25, 7, 0, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);

    const back = relocate(r.split, base);
    expect(back.btf.startId).toBe(18);
    expect(lines(back.btf)).toEqual([
      "[18] PTR '(anon)' type_id=3",
      "[19] PTR '(anon)' type_id=30",
      "[20] CONST '(anon)' type_id=6",
      "[21] RESTRICT '(anon)' type_id=31",
      "[22] VOLATILE '(anon)' type_id=8",
      "[23] TYPEDEF 'et' type_id=32",
      "[24] CONST '(anon)' type_id=10",
      "[25] PTR '(anon)' type_id=33",
      "[26] STRUCT 'with_embedded' size=4 vlen=1",
      "\t'f1' type_id=13 bits_offset=0",
      "[27] FUNC 'fn' type_id=34 linkage=static",
      "[28] TYPEDEF 'arraytype' type_id=35",
      "[29] FUNC_PROTO '(anon)' ret_type_id=1 vlen=1",
      "\t'p1' type_id=16",
      "[30] STRUCT '(anon)' size=12 vlen=2",
      "\t'f1' type_id=1 bits_offset=0",
      "\t'f2' type_id=3 bits_offset=32",
      "[31] UNION '(anon)' size=4 vlen=1",
      "\t'f1' type_id=1 bits_offset=0",
      "[32] ENUM '(anon)' encoding=UNSIGNED size=4 vlen=1",
      "\t'av1' val=2",
      "[33] ENUM64 '(anon)' encoding=SIGNED size=8 vlen=1",
      "\t'v1' val=1025LL",
      "[34] FUNC_PROTO '(anon)' ret_type_id=1 vlen=1",
      "\t'p1' type_id=1",
      "[35] ARRAY '(anon)' type_id=1 index_type_id=1 nr_elems=3",
    ]);
    // u1 has two definitions (12 and 4 bytes): the size picks [6].
    expect(back.idMap[3]).toBe(6);
    back.btf.free(); r.split.free(); r.base.free(); split.free(); base.free();
  });

  it("refuses references to a base FUNC/VAR, naming the type and kind", () => {
    const b = new Builder();
    const i = b.int("int", 4, 1);
    const fp = b.funcProto(i, []);
    const fn = b.func("some_fn", fp);
    const base = b.finish();
    const s = new Builder(base);
    s.ptr(fn); // a pointer to a FUNC: nothing a distilled base can express
    const split = s.finish();
    let err: unknown;
    try { distill(split); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(BtfError);
    expect((err as BtfError).code).toBe("DISTILL_REFUSED");
    expect((err as BtfError).typeId).toBe(fn);
    expect((err as BtfError).message).toContain(`[${fn}] FUNC 'some_fn'`);
    split.free(); base.free();
  });
});

// ---- failure reasons on made-up bases -----------------------------------------

/** A base with int, char (of the given signedness), and struct device of `devSize` bytes, plus extras. */
function kernel(devSize: number, opts: { charEncoding?: number; extra?: (b: Builder, int: number) => void } = {}): Btf {
  const b = new Builder();
  const int = b.int("int", 4, 1);
  b.int("char", 1, opts.charEncoding ?? 1);
  b.struct("device", devSize, [["id", int, 0]]);
  opts.extra?.(b, int);
  return b.finish();
}

describe("relocation problems", () => {
  it("a size problem names the embedding path through typedefs, arrays and anonymous structs", () => {
    const k1 = kernel(16);
    const k2 = kernel(24); // the same kernel but for struct device's size
    const s = new Builder(k1);
    const dev = k1.find("device", "STRUCT")[0];
    const baz = s.typedef("baz_t", dev);
    s.struct("foo", 16, [["bar", baz, 0]]);
    const arr = s.array(baz, 1, 2);
    const anon = s.struct("", 32, [["x", arr, 0]]);
    s.struct("outer", 32, [["inner", anon, 0]]);
    const mod = s.finish();
    const r = distill(mod);
    const problems = relocationProblems(r.split, k2);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ type: "device", kind: "STRUCT", reason: "size", expected: 16, found: 24, candidates: [3] });
    expect(problems[0].path).toBe("struct foo.bar -> typedef baz_t -> struct device");
    // Back onto its own kernel it relocates.
    expect(relocationProblems(r.split, k1)).toEqual([]);
    // Only pointers to it: no size check, it relocates.
    const p = new Builder(k1);
    p.struct("holder", 8, [["dev", p.ptr(dev), 0]]);
    const modPtr = p.finish();
    const rp = distill(modPtr);
    expect(relocationProblems(rp.split, k2)).toEqual([]);
    // libbpf 1.5 only scanned split ids below nr_split_types for embedded
    // members: with the embedding struct last, it misses it and relocates.
    const c = new Builder(k1);
    const baz2 = c.typedef("baz_t", dev);
    c.ptr(baz2);
    c.ptr(baz2);
    c.struct("foo", 16, [["bar", baz2, 0]]);
    const modLate = c.finish();
    const rl = distill(modLate);
    expect(relocationProblems(rl.split, k2).map((x) => x.reason)).toEqual(["size"]);
    expect(relocationProblems(rl.split, k2, { compat15: true })).toEqual([]);
    for (const x of [rl.split, rl.base, modLate, rp.split, rp.base, modPtr, r.split, r.base, mod, k2, k1]) x.free();
  });

  it("an anonymous embedder is climbed to its named parent", () => {
    const k1 = kernel(16);
    const k2 = kernel(24);
    const s = new Builder(k1);
    const dev = k1.find("device", "STRUCT")[0];
    const arr = s.array(dev, 1, 2);
    const anon = s.struct("", 32, [["x", arr, 0]]);
    s.struct("outer", 32, [["inner", anon, 0]]);
    const mod = s.finish();
    const r = distill(mod);
    const [p] = relocationProblems(r.split, k2);
    expect(p.reason).toBe("size");
    expect(p.path).toBe("struct outer.inner -> struct (anon).x -> array[2] -> struct device");
    for (const x of [r.split, r.base, mod, k2, k1]) x.free();
  });

  it("walks a long typedef chain once, however many members share it", () => {
    const k1 = kernel(16);
    const k2 = kernel(24);
    const s = new Builder(k1);
    let t = k1.find("device", "STRUCT")[0];
    for (let i = 0; i < 30000; i++) t = s.typedef(`t${i}`, t);
    s.struct("wide", 16, Array.from({ length: 20000 }, (_, i) => [`m${i}`, t, 0] as [string, number, number]));
    const mod = s.finish();
    const r = distill(mod);
    const t0 = performance.now();
    const problems = relocationProblems(r.split, k2);
    expect(performance.now() - t0).toBeLessThan(2000); // 6e8 steps without memoising the chain
    expect(problems.map((p) => p.reason)).toEqual(["size"]);
    expect(problems[0].path).toMatch(/^struct wide\.m0 -> typedef t29999 -> (typedef t\d+ -> ){15}\.\.\. -> struct device$/);
    for (const x of [r.split, r.base, mod, k2, k1]) x.free();
  });

  it("two candidates of the same name and size: ambiguous, with both ids", () => {
    const k1 = kernel(16);
    // A new base with two INTs 'int' of size 4 (selftest distilled_base_multi_err2).
    const k2 = kernel(16, { extra: (b) => { b.int("int", 4, 1); } });
    const s = new Builder(k1);
    s.ptr(k1.find("int", "INT")[0]);
    const mod = s.finish();
    const r = distill(mod);
    const problems = relocationProblems(r.split, k2);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ type: "int", kind: "INT", reason: "ambiguous" });
    expect(problems[0].candidates).toEqual(k2.find("int", "INT"));
    expect(problems[0].candidates).toHaveLength(2);
    for (const x of [r.split, r.base, mod, k2, k1]) x.free();
  });

  it("char signedness: an encoding problem", () => {
    const k1 = kernel(16, { charEncoding: 1 });
    const k2 = kernel(16, { charEncoding: 0 });
    const s = new Builder(k1);
    s.ptr(k1.find("char", "INT")[0]);
    const mod = s.finish();
    const r = distill(mod);
    const problems = relocationProblems(r.split, k2);
    expect(problems).toEqual([{ type: "char", kind: "INT", distilledId: 1, reason: "encoding", expected: "SIGNED", found: "(none)", candidates: k2.find("char", "INT") }]);
    for (const x of [r.split, r.base, mod, k2, k1]) x.free();
  });

  it("kind problems (INT vs FLOAT; FWD against a base struct with kind_flag), and missing names", () => {
    const k1 = kernel(16, { extra: (b) => { b.int("num_t", 4, 0); b.fwd("opaque"); b.fwd("gone"); } });
    const k2 = kernel(16, {
      extra: (b, int) => {
        b.float("num_t", 4);
        // A struct with a bitfield member has kind_flag 1: libbpf then refuses a FWD of either flavour.
        b.struct("opaque", 4, [["bits", int, (3 << 24) | 0]], true);
      },
    });
    const s = new Builder(k1);
    for (const name of ["num_t", "opaque", "gone"]) s.ptr(k1.find(name)[0]);
    const mod = s.finish();
    const r = distill(mod);
    const problems = relocationProblems(r.split, k2);
    const by = Object.fromEntries(problems.map((p) => [p.type, p]));
    expect(problems).toHaveLength(3);
    expect(by.num_t).toMatchObject({ kind: "INT", reason: "kind", expected: "INT", found: "FLOAT" });
    expect(by.opaque).toMatchObject({ kind: "FWD", reason: "kind", expected: "FWD", found: "STRUCT (kind_flag 1)" });
    expect(by.gone).toMatchObject({ kind: "FWD", reason: "missing" });
    expect(by.gone.candidates).toBeUndefined();
    for (const x of [r.split, r.base, mod, k2, k1]) x.free();
  });

  it("rejects a split whose base is not a distilled base", () => {
    const base = Btf.parse(fixture("k61-50/vmlinux.btf.gz"));
    const mod = Btf.parse(fixture("k61-50/modules/loop.btf.gz"), { base });
    const other = kernel(16);
    let err: unknown;
    try { relocationProblems(mod, other); } catch (e) { err = e; }
    expect((err as BtfError).code).toBe("BAD_DISTILLED_BASE");
    for (const x of [other, mod, base]) x.free();
  });
});

// ---- the whole corpus -----------------------------------------------------------

describe.runIf(HAS_CORPUS)("distill and relocate over the whole corpus", () => {
  it("distills all modules of k61-50 and k61-47 as libbpf", () => {
    let n = 0;
    for (const k of ["k61-50", "k61-47"]) {
      const base = Btf.parse(readMaybeGz(join(CORPUS, k, "vmlinux.btf.gz")));
      for (const m of corpusModules(k)) {
        checkDistill(base, new Uint8Array(readFileSync(join(CORPUS, k, "modules", `${m}.btf`))),
          new Uint8Array(readFileSync(join(GOLDEN, "distill", k, `${m}.base.btf`))),
          new Uint8Array(readFileSync(join(GOLDEN, "distill", k, `${m}.split.btf`))), `${k}/${m}`);
        n++;
      }
      base.free();
    }
    console.log(`corpus distill: ${n} modules checked`);
    expect(n).toBe(500);
  });

  it("relocates in every golden direction as libbpf (bytes, maps, failures)", () => {
    const root = join(GOLDEN, "relocate");
    let total = 0;
    for (const dir of readdirSync(root).filter((d) => d.includes("__to__")).sort()) {
      const [src, dst] = dir.split("__to__");
      const newBase = Btf.parse(readMaybeGz(join(CORPUS, dst, "vmlinux.btf.gz")));
      const counts = { ok: 0, failed: 0 };
      const reasons: Record<string, number> = {};
      for (const f of readdirSync(join(GOLDEN, "distill", src)).filter((x) => x.endsWith(".split.btf")).sort()) {
        const m = f.slice(0, -".split.btf".length);
        const g = join(root, dir, m);
        const gold = existsSync(`${g}.err`)
          ? { err: readFileSync(`${g}.err`, "utf8") }
          : { btf: new Uint8Array(readFileSync(`${g}.btf`)), map: existsSync(`${g}.map`) ? new Uint8Array(readFileSync(`${g}.map`)) : undefined };
        const dist = new Uint8Array(readFileSync(join(GOLDEN, "distill", src, `${m}.base.btf`)));
        const split = new Uint8Array(readFileSync(join(GOLDEN, "distill", src, f)));
        counts[checkRelocate(dist, split, newBase, gold, `${dir}/${m}`)]++;
        if (gold.err !== undefined) {
          const d = Btf.parse(dist);
          const s = Btf.parse(split, { base: d });
          for (const p of relocationProblems(s, newBase)) reasons[p.reason] = (reasons[p.reason] ?? 0) + 1;
          s.free(); d.free();
        }
      }
      console.log(`corpus relocate ${dir}: ${counts.ok} relocated as libbpf, ${counts.failed} refused as libbpf; problems by reason ${JSON.stringify(reasons)}`);
      total += counts.ok + counts.failed;
      newBase.free();
    }
    console.log(`corpus relocate: ${total} cases checked`);
    expect(total).toBeGreaterThan(900);
  });
});
