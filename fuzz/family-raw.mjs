// Family "raw": structure-aware mutations of raw split BTF (the module
// seeds), parsed on the fixture vmlinux, then every target of targets.mjs.
import { layoutOf, MUTATORS, MUTATOR_NAMES } from "./mutators.mjs";
import { TARGETS } from "./targets.mjs";

export const rawFamily = {
  name: "raw",
  setup(ctx) {
    return { mods: ctx.seeds.mods.map((s) => ({ ...s, info: layoutOf(s.bytes) })) };
  },
  run(st, rng, cs, ctx) {
    const { api, base } = ctx;
    const s = rng.pick(st.mods);
    let bytes = s.bytes;
    const applied = [];
    for (let k = 0, n = 1 + rng.int(3); k < n; k++) {
      const m = rng.pick(MUTATOR_NAMES);
      applied.push(m);
      bytes = MUTATORS[m](bytes, rng, s.info);
    }
    cs.describe(`seedfile=${s.name} mutators=${applied.join("+")}`);
    const parsed = cs.try("parse", () => api.Btf.parse(bytes, { base }));
    if (!parsed.ok) return parsed.code;
    const btf = parsed.value;
    try {
      for (const t of TARGETS) {
        if (!t.available(api) || (t.heavy && !cs.heavy)) continue;
        const out = cs.try(t.name, () => t.run(ctx, btf, bytes));
        if (out.ok && t.deterministic && cs.checkDeterminism) {
          const again = cs.try(t.name, () => t.run(ctx, btf, bytes));
          if (again.ok && !cs.same(out.value, again.value)) cs.finding(`${t.name}: output differs between two runs`);
        }
      }
    } finally {
      try { btf.free(); } catch { /* a reset core already dropped it */ }
    }
    return "accepted";
  },
};
