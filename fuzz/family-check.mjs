// Family "check": the Checker (src/check.ts) with --strict on, given a
// mutated module against the fixture kernels (k61-50, the one it was built
// for, and k61-47): either plain split BTF (distilled inside the checker on
// the built-against kernel) or a distilled pair (.BTF.base + .BTF, as a
// module carrying .BTF.base), with either half mutated.
import { layoutOf, MUTATORS, MUTATOR_NAMES } from "./mutators.mjs";

export const checkFamily = {
  name: "check",
  setup(ctx) {
    const { api, base } = ctx;
    const plain = ctx.seeds.mods.map((s) => ({ name: s.name, bytes: s.bytes, info: layoutOf(s.bytes) }));
    const distilled = [];
    for (const s of ctx.seeds.mods.slice(0, 24)) {
      const m = api.Btf.parse(s.bytes, { base });
      const d = api.distill(m);
      const split = d.split.toBytes(), dbase = d.base.toBytes();
      distilled.push({ name: s.name, split, base: dbase, splitInfo: layoutOf(split), baseInfo: layoutOf(dbase) });
      d.split.free(); d.base.free(); m.free();
    }
    return { plain, distilled, baseRaw: ctx.seeds.base.bytes };
  },
  run(st, rng, cs, ctx) {
    const { api, base, other } = ctx;
    const mutate = (bytes, info, tag) => {
      const names = [];
      for (let k = 0, n = 1 + rng.int(2); k < n; k++) {
        const m = rng.pick(MUTATOR_NAMES);
        names.push(m);
        bytes = MUTATORS[m](bytes, rng, info);
      }
      return { bytes, desc: `${tag}:${names.join("+")}` };
    };
    const kernels = [{ name: "k61-50", btf: base, raw: st.baseRaw }, { name: "k61-47", btf: other }];
    const checker = new api.Checker(kernels, { builtAgainst: kernels[0], strict: true });
    const owned = [];
    try {
      let input;
      if (rng.chance(0.5)) {
        const s = rng.pick(st.plain);
        const m = mutate(s.bytes, s.info, "split");
        cs.describe(`plain seedfile=${s.name} ${m.desc}`);
        input = { name: s.name, raw: m.bytes };
      } else {
        const s = rng.pick(st.distilled);
        let split = s.split, dbase = s.base, desc = "";
        if (rng.chance(0.6)) ({ bytes: split, desc } = mutate(split, s.splitInfo, "split"));
        else ({ bytes: dbase, desc } = mutate(dbase, s.baseInfo, "base"));
        cs.describe(`distilled seedfile=${s.name} ${desc}`);
        const b = cs.try("parse .BTF.base", () => api.Btf.parse(dbase));
        if (!b.ok) return b.code;
        owned.push(b.value);
        const sp = cs.try("parse .BTF", () => api.Btf.parse(split, { base: b.value }));
        if (!sp.ok) return sp.code;
        owned.push(sp.value);
        input = { name: s.name, distilled: { split: sp.value, base: b.value } };
      }
      const r = cs.try("Checker.checkModule", () => checker.checkModule(input));
      if (!r.ok) return r.code;
      if (r.value.length !== kernels.length) cs.finding(`checkModule gave ${r.value.length} results for ${kernels.length} kernels`);
      cs.try("Checker.finish", () => JSON.stringify(checker.finish()));
      return r.value.every((x) => x.ok) ? "accepted" : "accepted-incompatible";
    } finally {
      for (const b of owned.reverse()) b.free();
    }
  },
};
