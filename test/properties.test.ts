// Property tests over generated VALID BTF, with the generator of
// test/gen.ts (every kind; shared with the dedup properties):
//   - parse(write(x)) == x, little- and big-endian, 24- and 32-byte headers,
//     compared as bytes and as the raw dump;
//   - every dump (raw, JSON, C) succeeds on valid BTF;
//   - a generated module on the fixture vmlinux, distilled, relocated onto
//     that same vmlinux and deduplicated, gives back the module's types.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import fc from "fast-check";
import { init, Btf, BtfError, loadBtf, distill, relocate, RelocationError } from "../src/index.js";
import { KIND, buildBtf, encode, specArb } from "./gen.js";
import { KIND_MAX } from "../src/generated/kinds.js";
import { fixture, equalBytes, firstDiff } from "./helpers.js";

beforeAll(async () => { await init(); });

function same(got: Uint8Array, want: Uint8Array, what: string): void {
  if (!equalBytes(got, want)) expect.fail(`${what}: ${got.length} vs ${want.length} bytes, first difference at byte ${firstDiff(got, want)}`);
}

describe("parse(write(x)) == x", () => {
  it("little and big endian, 24- and 32-byte headers, as bytes and as the raw dump", () => {
    let checked = 0;
    fc.assert(fc.property(specArb, (specs) => {
      const bytes = buildBtf(specs);
      const a = Btf.parse(bytes);
      const raw = a.dumpRaw();
      const le = a.toBytes();
      same(le, bytes, "write(parse(x))");
      const be = a.toBytes({ endian: "big" });
      const b = Btf.parse(be);
      const wide = Btf.parse(a.toBytes({ header: 32 }));
      try {
        expect(b.endian).toBe("big");
        expect(b.dumpRaw()).toBe(raw);
        same(b.toBytes({ endian: "big" }), be, "big-endian write(parse(x))");
        same(b.toBytes({ endian: "little" }), le, "big-endian parsed, written little-endian");
        expect(wide.header.hdrLen).toBe(32);
        expect(wide.dumpRaw()).toBe(raw);
        same(wide.toBytes({ header: 24 }), le, "32-byte header parsed, written with 24");
        checked++;
      } finally {
        for (const x of [a, b, wide]) x.free();
      }
    }), { numRuns: 300, seed: 20261126 });
    expect(checked).toBe(300);
  });
});

describe("every dump succeeds on valid BTF", () => {
  // The generator may embed a struct in itself by value: libbpf parses that,
  // and so does the kernel's module load (btf_parse_module runs the meta
  // checks, not the resolve pass that would see the loop), but no C can
  // declare it, and libbpf's btf_dump fails "unsatisfiable type cycle". So
  // the C dump succeeds or fails with LOOP, and succeeds on most.
  it("raw, JSON and C", () => {
    const kinds = new Set<number>();
    let cDumped = 0;
    fc.assert(fc.property(specArb, (specs) => {
      const a = Btf.parse(buildBtf(specs));
      try {
        const raw = a.dumpRaw();
        expect(raw.split("\n").filter((l) => l.startsWith("[")).length).toBe(a.typeCount - 1);
        const json = JSON.parse(a.dump("json"));
        expect(json.types.length).toBe(a.typeCount - 1);
        for (const t of json.types) kinds.add(t.kind);
        try {
          expect(typeof a.dumpC({ bare: true })).toBe("string");
          cDumped++;
        } catch (e) {
          if (!(e instanceof BtfError) || e.code !== "LOOP") throw e;
        }
      } finally {
        a.free();
      }
    }), { numRuns: 300, seed: 4242 });
    console.log(`dumps: C header for ${cDumped} of 300 generated BTF, the rest LOOP`);
    expect(cDumped).toBeGreaterThan(150);
    // The generator reaches every kind.
    expect(kinds.size).toBe(KIND_MAX); // kinds 1..KIND_MAX (0 is no kind)
  });
});

// ---- distill / relocate / dedup ---------------------------------------------------

const OWN_NAMES = ["x", "y", "foo", "sk", "m"];

/**
 * A module's split BTF on `base` from integer tuples: ints, pointers, const,
 * typedefs, arrays, structs, unions, enums and function prototypes that
 * reference `targets` (ids of the base) or earlier own types, never a VAR,
 * DATASEC, FUNC or DECL_TAG.
 */
function buildSplit(specs: number[][], base: Btf, targets: number[]): Uint8Array {
  const start = base.typeCount;
  const nameOff: number[] = [];
  let o = base.startStrOff + base.header.strLen;
  for (const s of OWN_NAMES) { nameOff.push(o); o += s.length + 1; }
  const nm = (r: number) => (r % 6 === 5 ? 0 : nameOff[r % 5]);
  const info = (k: number, vlen: number) => ((k << 24) | vlen) >>> 0;
  const ref = (i: number, r: number) => (r % 3 === 0 && i > 0 ? start + (r % i) : targets[r % targets.length]);
  const types: number[][] = [];
  const kinds = [KIND.INT, KIND.PTR, KIND.CONST, KIND.TYPEDEF, KIND.ARRAY, KIND.STRUCT, KIND.UNION, KIND.ENUM, KIND.FUNC_PROTO, KIND.STRUCT, KIND.PTR];
  specs.forEach(([r0, r1, r2, r3, r4, r5, r6], i) => {
    const k = kinds[r0 % kinds.length];
    switch (k) {
      case KIND.INT: types.push([nameOff[r1 % 5], info(k, 0), 4, 32]); break;
      case KIND.PTR: case KIND.CONST: types.push([0, info(k, 0), ref(i, r2)]); break;
      case KIND.TYPEDEF: types.push([nameOff[r1 % 5], info(k, 0), ref(i, r2)]); break;
      case KIND.ARRAY: types.push([0, info(k, 0), 0, ref(i, r2), targets[0], r3 % 4]); break;
      case KIND.STRUCT: case KIND.UNION: {
        const vlen = r3 % 4;
        // Members are pointers-sized slots; what they point at does not matter for the layout checks here.
        const t = [nm(r1), info(k, vlen), 8 * Math.max(vlen, 1) + 8 * (r4 % 2)];
        for (let m = 0; m < vlen; m++) t.push(nameOff[(r5 + m) % 5], ref(i, r6 + 7 * m), k === KIND.UNION ? 0 : 64 * m);
        types.push(t);
        break;
      }
      case KIND.ENUM: {
        const vlen = 1 + (r3 % 3);
        const t = [nm(r1), info(k, vlen), 4];
        for (let m = 0; m < vlen; m++) t.push(nameOff[(r5 + m) % 5], m);
        types.push(t);
        break;
      }
      case KIND.FUNC_PROTO: {
        const vlen = r3 % 3;
        const t = [0, info(k, vlen), ref(i, r2)];
        for (let m = 0; m < vlen; m++) t.push(nameOff[(r5 + m) % 5], ref(i, r6 + m));
        types.push(t);
        break;
      }
    }
  });
  return encode(types, OWN_NAMES, base);
}

describe("distill, relocate onto its own base, dedup", () => {
  let vmlinux: Btf;
  let targets: number[];
  beforeAll(async () => {
    vmlinux = await loadBtf(fixture("k61-50/vmlinux.btf.gz"));
    // Named structs/unions/ints/typedefs of the base that have exactly one type of their kind and name, so relocation is unambiguous.
    const seen = new Map<string, number[]>();
    for (let id = 1; id < vmlinux.typeCount; id++) {
      const t = vmlinux.type(id);
      if (!t.name || !["STRUCT", "UNION", "INT", "TYPEDEF", "PTR"].includes(t.kindName)) continue;
      const key = `${t.kindName} ${t.name}`;
      seen.set(key, (seen.get(key) ?? []).concat(id));
    }
    targets = [...seen.values()].filter((ids) => ids.length === 1).map((ids) => ids[0]).filter((_, i) => i % 7 === 0);
  });
  afterAll(() => vmlinux?.free());

  // observed.md ("Relocation round trip"): dedup(relocate(distill(M))) equals
  // the module byte for byte for 206 of the 250 k61-50 modules, and the other
  // 44 differ only in string order. So: the same types (the raw dump prints
  // names, not string offsets), for a module that is itself deduplicated
  // against its base (pahole's output is; libbpf's dedup would fold any
  // duplicate of a base type, which relocation alone does not).
  it("gives back the module's types", () => {
    let checked = 0, refused = 0;
    fc.assert(fc.property(specArb, (specs) => {
      const m0 = Btf.parse(buildSplit(specs, vmlinux, targets), { base: vmlinux });
      const m = m0.dedup();
      m0.free();
      let d;
      try { d = distill(m); } catch (e) {
        m.free();
        if (e instanceof BtfError && e.code === "DISTILL_REFUSED") { refused++; return; }
        throw e;
      }
      try {
        const r = relocate(d.split, vmlinux);
        const back = r.btf.dedup();
        expect(back.startId).toBe(m.startId);
        expect(back.dumpRaw()).toBe(m.dumpRaw());
        back.free();
        r.btf.free();
        checked++;
      } catch (e) {
        if (e instanceof RelocationError) { refused++; return; }
        throw e;
      } finally {
        d.split.free(); d.base.free(); m.free();
      }
    }), { numRuns: 200, seed: 1126 });
    console.log(`distill/relocate/dedup round trip: ${checked} generated modules, ${refused} refused`);
    expect(checked).toBeGreaterThan(150);
  });
});
