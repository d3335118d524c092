// Family "elf": ELF-aware mutations of kernel modules (the fixture and
// corpus .ko files, plain and distilled to carry .BTF.base), driven through
// readElf, elfBtfSections, btfFromElf (with transparent relocation of
// distilled modules), and the distill-to-.ko writer (distill, remapBtfIds,
// replaceElfSections: what `btfkit distill X.ko -o OUT.ko` runs). Invariants
// beyond the harness's: what the writer produced reads back (readElf and
// btfFromElf, with and without the base), and no input buffer is modified.
import { elfLayoutOf, ELF_MUTATORS, ELF_MUTATOR_NAMES } from "./mutators-elf.mjs";

/** The distill-to-.ko path of the CLI (src/cli/distill.ts), on bytes. */
export function distillKo(api, ko, mod) {
  const d = api.distill(mod);
  try {
    let bytes = ko;
    if (mod.source?.sections?.includes(".BTF_ids")) bytes = api.remapBtfIds(bytes, d.idMap).bytes;
    return api.replaceElfSections(bytes, { ".BTF": d.split.toBytes({ endian: mod.endian }), ".BTF.base": d.base.toBytes({ endian: mod.endian }) }).bytes;
  } finally {
    d.split.free();
    d.base.free();
  }
}

function equal(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export const elfFamily = {
  name: "elf",
  setup(ctx) {
    const { api, base } = ctx;
    const seeds = [];
    for (const k of ctx.seeds.kos) {
      seeds.push({ name: k.name, bytes: k.bytes, layout: elfLayoutOf(k.bytes) });
      // The same module written by our distill-to-.ko path: .BTF.base, remapped .BTF_ids.
      const mod = api.btfFromElf(k.bytes, { base });
      const out = distillKo(api, k.bytes, mod);
      mod.free();
      seeds.push({ name: `${k.name}+base`, bytes: out, layout: elfLayoutOf(out) });
    }
    return { seeds };
  },
  run(st, rng, cs, ctx) {
    const { api, base } = ctx;
    const s = rng.pick(st.seeds);
    let bytes = s.bytes;
    const applied = [];
    for (let k = 0, n = 1 + rng.int(3); k < n; k++) {
      const m = rng.pick(ELF_MUTATOR_NAMES);
      applied.push(m);
      bytes = ELF_MUTATORS[m](bytes, rng, s.layout);
    }
    cs.describe(`seedfile=${s.name} mutators=${applied.join("+")}`);
    const input = bytes.slice();
    const unchanged = (what) => { if (!equal(bytes, input)) cs.finding(`${what} modified its input`); };

    // The writer entry points must refuse a bad file cleanly whatever state it is in.
    if (rng.chance(0.25)) {
      const map = new Uint32Array(rng.int(64)).map(() => rng.pick([0, 1, 2, 0xffffffff, rng.int(200000)]));
      cs.try("remapBtfIds(random map)", () => api.remapBtfIds(bytes, map));
      const extra = rng.pick([".BTF", ".BTF.base", ".BTF_ids", ".symtab", ".shstrtab", "", "x".repeat(300), ".text"]);
      cs.try("replaceElfSections(random)", () => api.replaceElfSections(bytes, { [extra]: new Uint8Array(rng.int(4096)) }));
      unchanged("remap/replace");
    }

    const layout = cs.try("readElf", () => api.readElf(bytes));
    cs.try("elfBtfSections", () => api.elfBtfSections(bytes));
    unchanged("readElf");
    const relocated = rng.chance(0.7);
    const loaded = cs.try("btfFromElf", () => api.btfFromElf(bytes, relocated ? { base } : {}));
    unchanged("btfFromElf");
    if (!loaded.ok) return loaded.code;
    const mod = loaded.value;
    try {
      if (!relocated) {
        // A distilled module read without a base keeps its .BTF.base; every dump must work on it.
        cs.try("dump-raw(split on .BTF.base)", () => mod.dumpRawBytes());
        return layout.ok ? "accepted" : "accepted-without-sections";
      }
      const out = cs.try("distill-to-ko", () => distillKo(api, bytes, mod));
      unchanged("distill-to-ko");
      if (!out.ok) return `writer:${out.code}`;
      if (cs.checkDeterminism) {
        const again = cs.try("distill-to-ko", () => distillKo(api, bytes, mod));
        if (again.ok && !equal(out.value, again.value)) cs.finding("distill-to-ko: output differs between two runs");
      }
      // What we wrote must read back: its section table, its .BTF on its own .BTF.base, and relocated onto the base.
      cs.must("readElf(written .ko)", () => api.readElf(out.value));
      const back = cs.must("btfFromElf(written .ko)", () => api.btfFromElf(out.value, {}));
      if (back) { back.source?.distilledBase?.free(); back.free(); }
      const onBase = cs.must("btfFromElf(written .ko, base)", () => api.btfFromElf(out.value, { base }));
      onBase?.free();
      return "accepted";
    } finally {
      mod.source?.distilledBase?.free();
      mod.free();
    }
  },
};
