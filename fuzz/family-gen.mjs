// Family "gen": BTF generated from scratch with the BtfBuilder (every kind,
// names from a small pool so that dedup and the C dumper's name
// disambiguation have collisions, references to earlier ids, structs that
// point at themselves), standalone or as a module on the fixture vmlinux.
// What the builder accepts must parse back identically and go through every
// target of targets.mjs; as a module it must also distill and relocate back
// onto its own base.
import { TARGETS } from "./targets.mjs";

const NAMES = ["", "a", "b", "foo", "bar", "int", "long", "sk_buff", "__u32", "x_y"];
const LINKAGES = ["static", "global", "extern"];

function generate(api, rng, base, baseTargets) {
  const b = new api.BtfBuilder(base);
  const ids = [];
  const name = () => rng.pick(NAMES);
  const named = () => rng.pick(NAMES.slice(1));
  const any = () => (base && rng.chance(0.4) ? rng.pick(baseTargets) : ids.length && rng.chance(0.9) ? rng.pick(ids) : 0);
  const plain = () => { const t = any(); return kinds.get(t) === "func" || kinds.get(t) === "var" || kinds.get(t) === "datasec" || kinds.get(t) === "tag" ? 0 : t; };
  const kinds = new Map();
  const add = (k, id) => { ids.push(id); kinds.set(id, k); return id; };
  const n = 1 + rng.int(rng.chance(0.1) ? 400 : 40);
  add("int", b.addInt(rng.pick(["int", "char", "long"]), rng.pick([1, 2, 4, 8]), rng.pick([0, 1, 2, 4])));
  const protos = [], vars = [];
  for (let i = 0; i < n; i++) {
    switch (rng.int(16)) {
      case 0: add("int", b.addInt(named(), rng.pick([1, 2, 4, 8, 16]), rng.pick([0, 1, 2, 4]))); break;
      case 1: add("ptr", b.addPtr(plain())); break;
      case 2: add("mod", rng.pick([() => b.addConst(plain()), () => b.addVolatile(plain()), () => b.addRestrict(plain())])()); break;
      case 3: add("typedef", b.addTypedef(named(), plain())); break;
      case 4: add("array", b.addArray(plain() || ids[0], ids[0], rng.pick([0, 1, 4, 100]))); break;
      case 5: case 6: {
        const union = rng.chance(0.3);
        const vlen = rng.int(5);
        // A pointer to the struct about to be added (ids are handed out in order).
        const self = rng.chance(0.3) ? add("ptr", b.addPtr(b.typeCount + 1)) : 0;
        const id = union ? b.addUnion(name(), 8 * (vlen + 1)) : b.addStruct(name(), 8 * (vlen + 1));
        for (let m = 0; m < vlen; m++) {
          const t = self && rng.chance(0.3) ? self : plain();
          if (rng.chance(0.15)) b.addMember(name(), ids[0], union ? 0 : 64 * m, 1 + rng.int(8));
          else b.addMember(name(), t, union ? 0 : 64 * m);
        }
        add("struct", id);
        break;
      }
      case 7: {
        const id = b.addEnum(name(), rng.pick([1, 2, 4, 8]));
        for (let v = 0, vl = rng.int(4); v < vl; v++) b.addEnumValue(named() + v, rng.int(1000) - 500);
        add("enum", id);
        break;
      }
      case 8: {
        const id = b.addEnum64(name(), 8, rng.chance(0.5));
        for (let v = 0, vl = rng.int(3); v < vl; v++) b.addEnum64Value(named() + v, BigInt(rng.u32()) << 20n);
        add("enum", id);
        break;
      }
      case 9: add("fwd", b.addFwd(named(), rng.pick(["struct", "union"]))); break;
      case 10: {
        const id = b.addFuncProto(plain());
        for (let p = 0, pl = rng.int(4); p < pl; p++) b.addParam(name(), plain() || ids[0]);
        protos.push(add("proto", id));
        break;
      }
      case 11: if (protos.length) add("func", b.addFunc(named(), rng.pick(protos), rng.pick(LINKAGES.slice(0, 2)))); break;
      case 12: vars.push(add("var", b.addVar(named(), plain() || ids[0], rng.pick(LINKAGES.slice(0, 2))))); break;
      case 13: {
        const id = b.addDatasec(rng.pick([".data", ".bss", ".rodata"]), 8 * vars.length);
        vars.forEach((v, k) => b.addVarSecInfo(v, 8 * k, 8));
        add("datasec", id);
        break;
      }
      case 14: if (ids.length > 1) add("tag", b.addDeclTag(named(), rng.pick(ids.filter((x) => kinds.get(x) !== "tag")), -1)); break;
      case 15: add("ptr", b.addPtr(b.addTypeTag(named(), plain()))); break;
    }
  }
  return b.finish();
}

export const genFamily = {
  name: "gen",
  setup(ctx) {
    const { base } = ctx;
    // Named structs, unions and ints of the base that a module may use.
    const baseTargets = [];
    for (let id = 1; id < base.typeCount && baseTargets.length < 2000; id += 37) {
      const k = base.type(id).kindName;
      if (k === "STRUCT" || k === "UNION" || k === "INT" || k === "TYPEDEF" || k === "PTR") baseTargets.push(id);
    }
    return { baseTargets };
  },
  run(st, rng, cs, ctx) {
    const { api, base } = ctx;
    const split = rng.chance(0.4);
    cs.describe(split ? "module on k61-50" : "standalone");
    const built = cs.try("BtfBuilder", () => generate(api, rng, split ? base : undefined, st.baseTargets));
    if (!built.ok) return built.code;
    const btf = built.value;
    const tctx = split ? ctx : { ...ctx, base: undefined }; // targets parse on ctx.base
    try {
      const bytes = cs.must("toBytes", () => btf.toBytes());
      if (!bytes) return "THROW";
      const back = cs.try("parse(write(built))", () => api.Btf.parse(bytes, split ? { base } : {}));
      if (!back.ok) return `parse:${back.code}`;
      try {
        if (back.value.dumpRaw() !== btf.dumpRaw()) cs.finding("parse(write(built)) dumps differently from built");
        for (const t of TARGETS) {
          if (!t.available(api) || (t.heavy && !cs.heavy)) continue;
          const out = cs.try(t.name, () => t.run(tctx, back.value, bytes));
          if (out.ok && t.deterministic && cs.checkDeterminism) {
            const again = cs.try(t.name, () => t.run(tctx, back.value, bytes));
            if (again.ok && !cs.same(out.value, again.value)) cs.finding(`${t.name}: output differs between two runs`);
          }
        }
        if (split) {
          const d = cs.try("distill", () => api.distill(back.value));
          if (d.ok) {
            const r = cs.try("relocate onto its own base", () => api.relocate(d.value.split, base));
            if (r.ok) r.value.btf.free();
            d.value.split.free(); d.value.base.free();
          }
        }
      } finally {
        back.value.free();
      }
      return "accepted";
    } finally {
      btf.free();
    }
  },
};
