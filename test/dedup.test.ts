// Dedup (libbpf btf__dedup): byte parity with the goldens, the "same BTF
// twice" case built in-process, split dedup against a base, error cases,
// and properties on generated BTF (idempotence; dedup(A ++ A) = dedup(A)
// plus the second copy's VAR/DATASEC, which libbpf never merges).
import { describe, it, expect, beforeAll } from "vitest";
import fc from "fast-check";
import { join } from "node:path";
import { readdirSync, existsSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { init, Btf, BtfError, dedup, concatBtf } from "../src/index.js";
import { fixture, fixturePath, equalBytes, firstDiff, readMaybeGz, HAS_CORPUS, GOLDEN, CORPUS, cli } from "./helpers.js";
import { KIND, encode, buildBtf, ambiguousEnumForward, specArb } from "./gen.js";

beforeAll(async () => { await init(); });


function expectSame(got: Uint8Array, want: Uint8Array, what: string): void {
  if (!equalBytes(got, want)) expect.fail(`${what}: ${got.length} vs ${want.length} bytes, first difference at byte ${firstDiff(got, want)}`);
}

/** The own types' records (common words and trailing words), one u32 array per type. */
function records(b: Btf): Uint32Array[] {
  const raw = b.toBytes({ header: 24 });
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const end = 24 + dv.getUint32(12, true);
  const out: Uint32Array[] = [];
  for (let off = 24; off < end;) {
    const info = dv.getUint32(off + 4, true);
    const k = (info >>> 24) & 0x1f, v = info & 0xffff;
    const trail = k === KIND.INT || k === KIND.VAR || k === KIND.DECL_TAG ? 1
      : k === KIND.ARRAY ? 3
      : k === KIND.STRUCT || k === KIND.UNION || k === KIND.ENUM64 || k === KIND.DATASEC ? 3 * v
      : k === KIND.ENUM || k === KIND.FUNC_PROTO ? 2 * v : 0;
    const words = new Uint32Array(3 + trail);
    for (let w = 0; w < words.length; w++) words[w] = dv.getUint32(off + 4 * w, true);
    out.push(words);
    off += 4 * words.length;
  }
  return out;
}

const kindOf = (w: Uint32Array) => (w[1] >>> 24) & 0x1f;

/** Types libbpf never merges: VAR, DATASEC and DECL_TAGs on them (to a fixpoint: tags may point either way). */
function pinnedIds(b: Btf, recs = records(b)): Set<number> {
  const pinned = new Set<number>();
  for (let changed = true; changed;) {
    changed = false;
    recs.forEach((w, i) => {
      const id = b.startId + i;
      if (pinned.has(id)) return;
      const k = kindOf(w);
      if (k === KIND.VAR || k === KIND.DATASEC || (k === KIND.DECL_TAG && pinned.has(w[2]))) { pinned.add(id); changed = true; }
    });
  }
  return pinned;
}

/**
 * dedup(A ++ A) must be dedup(A) followed by the second copy of the types
 * libbpf never merges: VAR, DATASEC, and DECL_TAGs on them (which point at a
 * distinct VAR in each copy). Their other ids point at the first copy's
 * canonical types. The string section is the same.
 */
function checkTwice(once: Btf, twice: Btf): void {
  const a = records(once);
  const b = records(twice);
  const pinned = pinnedIds(once, a);
  const order = [...pinned].sort((x, y) => x - y);
  expect(b.length, "type count").toBe(a.length + order.length);
  for (let i = 0; i < a.length; i++) {
    if (!equalBytes(new Uint8Array(a[i].buffer), new Uint8Array(b[i].buffer))) expect.fail(`type [${once.startId + i}] differs`);
  }
  const tailId = new Map<number, number>(order.map((id, j) => [id, twice.startId + a.length + j]));
  order.forEach((id, j) => {
    const want = Uint32Array.from(a[id - once.startId]);
    const k = kindOf(want);
    if (k === KIND.DATASEC) for (let e = 3; e < want.length; e += 3) want[e] = tailId.get(want[e]) ?? want[e];
    if (k === KIND.DECL_TAG) want[2] = tailId.get(want[2]) ?? want[2];
    expect(Array.from(b[a.length + j]), `second copy of [${id}]`).toEqual(Array.from(want));
  });
  const sa = once.toBytes(), sb = twice.toBytes();
  const strA = sa.subarray(sa.length - once.header.strLen), strB = sb.subarray(sb.length - twice.header.strLen);
  expect(equalBytes(strA, strB), "string sections").toBe(true);
}

describe("dedup against the vendored goldens", () => {
  it("relocated modules dedup on k61-47 exactly as libbpf", () => {
    const base = Btf.parse(fixture("k61-47/vmlinux.btf.gz"));
    const dir = fixturePath("golden/dedup/relocated-k61-50__to__k61-47");
    let n = 0;
    for (const f of readdirSync(dir)) {
      const m = f.replace(/\.btf\.gz$/, "");
      const input = fixture(`golden/relocate/k61-50__to__k61-47/${m}.btf.gz`);
      const split = Btf.parse(input, { base });
      const out = split.dedup();
      expectSame(out.toBytes(), fixture(`golden/dedup/relocated-k61-50__to__k61-47/${f}`), m);
      // The input is left as it was.
      expectSame(split.toBytes(), input, `${m} input`);
      // Split types equal to base types fold into base ids: no own type is identical to a base one.
      expect(out.typeCount).toBeLessThanOrEqual(split.typeCount);
      out.free();
      split.free();
      n++;
    }
    expect(n).toBe(6);
    // Big-endian in, big-endian out (libbpf writes back in the input's order), same content.
    const baseBe = Btf.parse(base.toBytes({ endian: "big" }));
    const bridge = Btf.parse(fixture("golden/relocate/k61-50__to__k61-47/bridge.btf.gz"), { base });
    const splitBe = Btf.parse(bridge.toBytes({ endian: "big" }), { base: baseBe });
    bridge.free();
    const outBe = dedup(splitBe);
    expect(outBe.endian).toBe("big");
    expectSame(outBe.toBytes({ endian: "little" }), fixture("golden/dedup/relocated-k61-50__to__k61-47/bridge.btf.gz"), "bridge, big-endian");
    outBe.free(); splitBe.free(); baseBe.free();
    base.free();
  });

  it("k61-50 vmlinux appended to itself dedups back to vmlinux, VAR and DATASEC doubled", () => {
    const v = Btf.parse(fixture("k61-50/vmlinux.btf.gz"));
    const twiceIn = concatBtf([v, v]);
    expect(twiceIn.typeCount - 1).toBe(2 * (v.typeCount - 1));
    const once = dedup(v);
    const twice = dedup(twiceIn);
    const vars = v.kindCounts().VAR, secs = v.kindCounts().DATASEC;
    expect(twice.typeCount - 1).toBe(v.typeCount - 1 + vars + secs);
    checkTwice(once, twice);
    // pahole's vmlinux is already deduplicated: the types come back unchanged.
    expect(once.typeCount).toBe(v.typeCount);
    expect(once.dumpRaw()).toBe(v.dumpRaw());
    if (existsSync(join(GOLDEN, "dedup/k61-50-twice/output.btf.gz"))) {
      // Our concatenation is btf__add_btf's: the golden input is the same types and strings.
      const golden = readMaybeGz(join(GOLDEN, "dedup/k61-50-twice/input.btf.gz"));
      const gi = Btf.parse(golden);
      expectSame(twiceIn.toBytes({ header: 24 }).subarray(24), golden.subarray(gi.header.hdrLen), "golden input");
      gi.free();
      expectSame(twice.toBytes(), readMaybeGz(join(GOLDEN, "dedup/k61-50-twice/output.btf.gz")), "golden output");
      console.log("dedup: k61-50-twice built in-process matches the golden input and output");
    }
    for (const b of [v, twiceIn, once, twice]) b.free();
  });

  it("the CLI writes the same bytes", () => {
    const dir = mkdtempSync(join(tmpdir(), "btfkit-dedup-"));
    try {
      const inp = join(dir, "in.btf");
      writeFileSync(inp, fixture("golden/relocate/k61-50__to__k61-47/loop.btf.gz"));
      const out = join(dir, "out.btf");
      const r = cli(["dedup", inp, "--base", fixturePath("k61-47/vmlinux.btf.gz"), "-o", out]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expectSame(readMaybeGz(out), fixture("golden/dedup/relocated-k61-50__to__k61-47/loop.btf.gz"), "cli loop");
      // A 32-byte header in (libbpf 1.8's form for BTF it builds), the classic 24 out by default.
      const base = Btf.parse(fixture("k61-47/vmlinux.btf.gz"));
      const m = Btf.parse(fixture("golden/relocate/k61-50__to__k61-47/loop.btf.gz"), { base });
      writeFileSync(inp, m.toBytes({ header: 32 }));
      m.free(); base.free();
      expect(cli(["dedup", inp, "--base", fixturePath("k61-47/vmlinux.btf.gz"), "-o", out]).code).toBe(0);
      expectSame(readMaybeGz(out), fixture("golden/dedup/relocated-k61-50__to__k61-47/loop.btf.gz"), "cli loop, 32-byte header in");
      expect(cli(["dedup", inp, "--base", fixturePath("k61-47/vmlinux.btf.gz"), "-o", out, "--header", "32"]).code).toBe(0);
      const written = readMaybeGz(out);
      expect(new DataView(written.buffer, written.byteOffset, written.byteLength).getUint32(4, true)).toBe(32);
      const bad = cli(["dedup", inp, "-o", out]);
      expect(bad.code).toBe(2); // split BTF without its base
      expect(cli(["dedup", inp]).code).toBe(2); // no -o
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---- generated BTF ----------------------------------------------------------


describe("dedup properties on generated BTF", () => {
  // Strings are deduplicated before types, so strings first used by a type
  // that then folds away keep their early place: a second dedup may reorder
  // the section. Types are stable at once; bytes from the second dedup on.
  it("is idempotent: the same types at once, the same bytes from the second run", () => {
    let checked = 0;
    fc.assert(fc.property(specArb, (specs) => {
      const a = Btf.parse(buildBtf(specs));
      const d1 = dedup(a);
      const d2 = dedup(d1);
      const d3 = dedup(d2);
      try {
        expect(d2.dumpRaw()).toBe(d1.dumpRaw());
        expectSame(d3.toBytes(), d2.toBytes(), "dedup(dedup(dedup(A))) vs dedup(dedup(A))");
        checked++;
      } finally {
        for (const b of [a, d1, d2, d3]) b.free();
      }
    }), { numRuns: 300, seed: 20240601 });
    expect(checked).toBe(300);
  });

  // An enum forward takes the first compatible full enum in candidate order;
  // with two different full enums of its name, the second copy's forward
  // may pick the other one (libbpf does the same), so such inputs are left out.
  it("dedup(A ++ A) is dedup(A) plus the second copy's VAR and DATASEC", () => {
    fc.assert(fc.property(specArb, (specs) => {
      const a = Btf.parse(buildBtf(specs));
      if (ambiguousEnumForward(a)) { a.free(); fc.pre(false); }
      const aa = concatBtf([a, a]);
      const once = dedup(a);
      const twice = dedup(aa);
      try {
        checkTwice(once, twice);
      } finally {
        for (const b of [a, aa, once, twice]) b.free();
      }
    }), { numRuns: 300, seed: 77 });
  });

  // The base is deduplicated first: a base with duplicates of its own lets
  // the split's copies pick either duplicate, as in libbpf.
  it("a split that repeats its (deduplicated) base folds into it but for what libbpf never merges", () => {
    let folded = 0;
    fc.assert(fc.property(specArb, (specs) => {
      const raw = Btf.parse(buildBtf(specs));
      const ambiguous = ambiguousEnumForward(raw);
      const a = dedup(raw);
      raw.free();
      if (ambiguous) { a.free(); fc.pre(false); }
      const split = concatBtf([a], { base: a });
      const out = dedup(split);
      try {
        expect(split.typeCount - split.startId).toBe(a.typeCount - 1);
        const left = records(out).map(kindOf);
        expect(left.length).toBe(pinnedIds(a).size);
        expect(left.every((k) => k === KIND.VAR || k === KIND.DATASEC || k === KIND.DECL_TAG)).toBe(true);
        // Every string of the split exists in the base.
        expect(out.header.strLen).toBe(0);
        folded += a.typeCount - 1 - left.length;
      } finally {
        for (const b of [a, split, out]) b.free();
      }
    }), { numRuns: 300, seed: 99 });
    expect(folded).toBeGreaterThan(1000);
  });

  it("never changes its input", () => {
    fc.assert(fc.property(specArb, (specs) => {
      const bytes = buildBtf(specs);
      const a = Btf.parse(bytes);
      const before = a.toBytes();
      dedup(a).free();
      expectSame(a.toBytes(), before, "input after dedup");
      a.free();
    }), { numRuns: 100, seed: 5 });
  });
});

describe("dedup on small hand-made BTF", () => {
  it("folds split types into equal base types and uses base string offsets", () => {
    // base: [1] int, [2] struct s { int x; }, [3] ptr -> 2; strings "\0int\0s\0x\0"
    const base = Btf.parse(encode([
      [1, (KIND.INT << 24) >>> 0, 4, 32],
      [5, ((KIND.STRUCT << 24) | 1) >>> 0, 4, 7, 1, 0],
      [0, (KIND.PTR << 24) >>> 0, 2],
    ], ["int", "s", "x"]));
    // split, with its own copies of the strings: [4] int, [5] struct s { int x; } (a duplicate),
    // [6] ptr -> 5, [7] struct t { s *p; }
    const S = base.header.strLen;
    const at = { int: S, s: S + 4, x: S + 6, t: S + 8, p: S + 10 };
    const split = Btf.parse(encode([
      [at.int, (KIND.INT << 24) >>> 0, 4, 32],
      [at.s, ((KIND.STRUCT << 24) | 1) >>> 0, 4, at.x, 4, 0],
      [0, (KIND.PTR << 24) >>> 0, 5],
      [at.t, ((KIND.STRUCT << 24) | 1) >>> 0, 8, at.p, 6, 0],
    ], ["int", "s", "x", "t", "p"], base), { base });
    expect(split.str(at.t)).toBe("t");
    const out = dedup(split);
    expect(out.typeCount - out.startId).toBe(1);
    const t = out.type(out.startId);
    expect(t.name).toBe("t");
    expect(t.members[0].type).toBe(3); // the base's ptr -> struct s
    expect(t.members[0].name).toBe("p");
    // "t" and "p" are the only strings left in the split's own section.
    expect(out.header.strLen).toBe(4);
    expect(t.nameOff).toBe(S);
    out.free(); split.free(); base.free();
  });

  it("keeps a name that points into the middle of a string as its own string, as libbpf's strset", () => {
    // "\0foo_bar\0\0": [1] INT 'foo_bar', [2] INT 'bar' (offset 5, inside foo_bar), [3] INT 'bar'
    // again, [4] INT named by the empty string at offset 9 (which maps to 0).
    const b = Btf.parse(encode([
      [1, (KIND.INT << 24) >>> 0, 4, 32],
      [5, (KIND.INT << 24) >>> 0, 8, 64],
      [5, (KIND.INT << 24) >>> 0, 2, 16],
      [9, (KIND.INT << 24) >>> 0, 1, 8],
    ], ["foo_bar", ""]));
    const out = dedup(b);
    expect(out.header.strLen).toBe(13); // "\0foo_bar\0bar\0"
    expect(out.type(2).nameOff).toBe(9);
    expect(out.type(3).nameOff).toBe(9);
    expect(out.type(2).name).toBe("bar");
    expect(out.type(4).nameOff).toBe(0);
    expect(dedup(out).header.strLen).toBe(13);
    out.free(); b.free();
  });

  it("refuses a string section that names into the middle of strings would blow up", () => {
    // One 8000-byte string and a type named by each of its suffixes: libbpf would
    // write ~32 MB of strings; dedup stops with TOO_LARGE instead.
    const L = 8000;
    const types: number[][] = [];
    for (let i = 0; i < L; i++) types.push([1 + i, (KIND.INT << 24) >>> 0, 4, 32]);
    const b = Btf.parse(encode(types, ["x".repeat(L)]));
    expect(() => dedup(b)).toThrow(expect.objectContaining({ code: "TOO_LARGE" }));
    b.free();
  });

  it("makes a later-id reference type canonical when an earlier one reaches it first", () => {
    // [1] int, [2] ptr -> 4, [3] const int, [4] const int: 4 is reached through 2 first.
    const b = Btf.parse(encode([
      [1, (KIND.INT << 24) >>> 0, 4, 32],
      [0, (KIND.PTR << 24) >>> 0, 4],
      [0, (KIND.CONST << 24) >>> 0, 1],
      [0, (KIND.CONST << 24) >>> 0, 1],
    ], ["int"]));
    const out = dedup(b);
    expect(out.dumpRaw()).toBe("[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=(none)\n[2] PTR '(anon)' type_id=3\n[3] CONST '(anon)' type_id=1\n");
    out.free(); b.free();
  });

  it("refuses a reference loop (libbpf: -ELOOP) with a typed error", () => {
    // [1] ptr -> 2, [2] func_proto returning 1: a loop no struct breaks.
    const bytes = encode([
      [0, (KIND.PTR << 24) >>> 0, 2],
      [0, (KIND.FUNC_PROTO << 24) >>> 0, 1],
    ], []);
    const b = Btf.parse(bytes);
    try {
      dedup(b);
      expect.fail("dedup accepted a loop");
    } catch (e) {
      expect(e).toBeInstanceOf(BtfError);
      expect((e as BtfError).code).toBe("DEDUP_FAILED");
      expect((e as BtfError).message).toMatch(/loop/);
    }
    expectSame(b.toBytes(), bytes, "input after a failed dedup");
    b.free();
  });

  it("refuses a struct member reaching a VAR (libbpf: -EINVAL)", () => {
    // [1] int, [2] var v int, [3] var w int, [4] struct s { v }, [5] struct s { w }
    const b = Btf.parse(encode([
      [1, (KIND.INT << 24) >>> 0, 4, 32],
      [5, (KIND.VAR << 24) >>> 0, 1, 0],
      [5, (KIND.VAR << 24) >>> 0, 1, 0],
      [7, ((KIND.STRUCT << 24) | 1) >>> 0, 4, 5, 2, 0],
      [7, ((KIND.STRUCT << 24) | 1) >>> 0, 4, 5, 3, 0],
    ], ["int", "v", "s"]));
    expect(() => dedup(b)).toThrow(BtfError);
    b.free();
  });
});

describe.runIf(HAS_CORPUS)("dedup over the corpus goldens", () => {
  it("matches every golden (k61-50-twice and the relocated k61-50 modules on k61-47)", () => {
    let n = 0;
    // The golden input has libbpf 1.8's 32-byte header; the goldens' outputs are written with 24.
    const twiceIn = Btf.parse(readMaybeGz(join(GOLDEN, "dedup/k61-50-twice/input.btf.gz")));
    expect(twiceIn.header.hdrLen).toBe(32);
    const twiceOut = dedup(twiceIn);
    expect(twiceOut.header.hdrLen).toBe(32);
    expectSame(twiceOut.toBytes({ header: 24 }), readMaybeGz(join(GOLDEN, "dedup/k61-50-twice/output.btf.gz")), "k61-50-twice");
    twiceOut.free();
    twiceIn.free();
    n++;
    const base = Btf.parse(readMaybeGz(join(CORPUS, "k61-47/vmlinux.btf.gz")));
    const dir = join(GOLDEN, "dedup/relocated-k61-50__to__k61-47");
    for (const f of readdirSync(dir).sort()) {
      const split = Btf.parse(readMaybeGz(join(GOLDEN, "relocate/k61-50__to__k61-47", f)), { base });
      const out = dedup(split);
      expectSame(out.toBytes(), readMaybeGz(join(dir, f)), f);
      out.free();
      split.free();
      n++;
    }
    base.free();
    console.log(`dedup corpus conformance: ${n} goldens checked`);
    expect(n).toBe(160);
  });
});
