// The explorer's indexes (src/web/search.ts, src/web/bulk.ts over
// assembly/api/web.ts) against brute force over TypeView, on the fixtures.
import { describe, it, expect, beforeAll } from "vitest";
import { init, Btf, KIND, KIND_NAMES } from "../src/index.js";
import { NameIndex } from "../src/web/search.js";
import { typeNames, typeKinds, ReverseIndex } from "../src/web/bulk.js";
import { fixture, HAS_CORPUS, CORPUS, corpusModules, readMaybeGz } from "./helpers.js";
import { join } from "node:path";

beforeAll(async () => { await init(); });

/** Every type id a type refers to, from the public TypeView (the slow way). */
function forwardRefs(btf: Btf, id: number): number[] {
  const t = btf.type(id);
  const out: number[] = [];
  if (t.type !== undefined) out.push(t.type);
  const a = t.array;
  if (a) out.push(a.type, a.indexType);
  for (const m of t.members) out.push(m.type);
  if (t.kind === KIND.FUNC_PROTO) { out.push(t.sizeOrType); for (const p of t.params) out.push(p.type); }
  for (const v of t.vars) out.push(v.type);
  return out.filter((x) => x !== 0);
}

describe("explorer indexes", () => {
  let base: Btf;
  let mod: Btf;
  beforeAll(() => {
    base = Btf.parse(fixture("k61-50/vmlinux.btf.gz"));
    mod = Btf.parse(fixture("k61-50/modules/veth.btf.gz"), { base });
  });

  it("names and kinds match TypeView for every id, and the name search ranks and counts right", () => {
    const idx = new NameIndex(typeNames(base), typeKinds(base), 1);
    expect(idx.count).toBe(base.typeCount - 1);
    const names: string[] = [];
    for (let id = 1; id < base.typeCount; id++) {
      const t = base.type(id);
      names.push(t.name);
      if (id % 97 === 0) { expect(idx.name(id)).toBe(t.name); expect(idx.kind(id)).toBe(t.kind); }
    }
    const STRUCT = KIND_NAMES.indexOf("STRUCT");
    const r = idx.search("SK_BUFF", STRUCT);
    expect(r.hits[0].id).toBe(base.find("sk_buff", "STRUCT")[0]);
    expect(r.hits[0].name).toBe("sk_buff");
    for (const [q, kind] of [["sk_buff", STRUCT], ["task", 0], ["e", 0], ["zzzz_none", 0], ["", STRUCT]] as const) {
      const res = idx.search(q, kind, 50);
      const want = names.filter((n, i) => n.toLowerCase().includes(q) && (kind === 0 || idx.kind(i + 1) === kind)).length;
      expect(res.total, q).toBe(q === "" ? names.filter((_, i) => idx.kind(i + 1) === kind).length : want);
      expect(res.hits.length).toBe(Math.min(50, res.total));
      // ranking: exact, then prefix, then the rest
      const rank = (n: string) => (n.toLowerCase() === q ? 0 : n.toLowerCase().startsWith(q) ? 1 : 2);
      if (q !== "") for (let i = 1; i < res.hits.length; i++) expect(rank(res.hits[i - 1].name)).toBeLessThanOrEqual(rank(res.hits[i].name));
    }
    const t0 = performance.now();
    for (const q of ["s", "sk", "sk_", "sk_b", "sk_bu", "sk_buf", "sk_buff"]) idx.search(q, 0, 200);
    console.log(`web index: ${idx.count} names; 7 keystrokes searched in ${(performance.now() - t0).toFixed(1)} ms`);
  });

  it("module index covers own ids only and names them", () => {
    const idx = new NameIndex(typeNames(mod, mod.startId), typeKinds(mod, mod.startId), mod.startId);
    expect(idx.from).toBe(mod.startId);
    expect(idx.count).toBe(mod.typeCount - mod.startId);
    for (let id = mod.startId; id < mod.typeCount; id++) expect(idx.name(id)).toBe(mod.type(id).name);
  });

  it("reverse index equals brute force over every id of a split BTF (base included)", () => {
    const t0 = performance.now();
    const rev = ReverseIndex.build(mod);
    const ms = performance.now() - t0;
    const expected = new Map<number, number[]>();
    for (let id = 1; id < mod.typeCount; id++) {
      for (const t of new Set(forwardRefs(mod, id))) {
        let l = expected.get(t);
        if (!l) expected.set(t, (l = []));
        l.push(id);
      }
    }
    let pairs = 0;
    for (let id = 1; id < mod.typeCount; id++) {
      const got = Array.from(rev.referrers(id));
      expect(got, `referrers of ${id}`).toEqual(expected.get(id) ?? []);
      pairs += got.length;
    }
    expect(rev.referrers(0).length).toBe(0);
    expect(rev.referrers(mod.typeCount).length).toBe(0);
    console.log(`web index: reverse index of ${mod.typeCount - 1} types (${pairs} referrer pairs) built in ${ms.toFixed(1)} ms, equal to brute force`);
  });
});

describe.runIf(HAS_CORPUS)("explorer indexes on the corpus", () => {
  it("every corpus module: name index = TypeView names; reverse index = base pairs + the module's own unique pairs, each present", () => {
    let modules = 0;
    let pairs = 0;
    for (const k of ["k61-50", "k61-47"]) {
      const base = Btf.parse(readMaybeGz(join(CORPUS, k, "vmlinux.btf.gz")));
      const baseRev = ReverseIndex.build(base);
      const basePairs = baseRev.refs.length;
      for (const m of corpusModules(k)) {
        const mod = Btf.parse(readMaybeGz(join(CORPUS, k, "modules", `${m}.btf`)), { base });
        const names = new NameIndex(typeNames(mod, mod.startId), typeKinds(mod, mod.startId), mod.startId);
        const rev = ReverseIndex.build(mod);
        let own = 0;
        for (let id = mod.startId; id < mod.typeCount; id++) {
          const t = mod.type(id);
          if (names.name(id) !== t.name.replace(/[\x00-\x1f\x7f]/g, "?")) throw new Error(`${k}/${m}: name of ${id}`);
          for (const r of new Set(forwardRefs(mod, id))) {
            if (!rev.referrers(r).includes(id)) throw new Error(`${k}/${m}: ${id} missing from referrers of ${r}`);
            own++;
          }
        }
        expect(rev.refs.length, `${k}/${m}`).toBe(basePairs + own);
        pairs += own;
        modules++;
        mod.free();
      }
      base.free();
    }
    console.log(`web index (corpus): ${modules} modules checked, ${pairs} own referrer pairs found in the reverse index`);
    expect(modules).toBeGreaterThan(0);
  });
});
