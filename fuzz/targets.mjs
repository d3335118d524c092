// Entry points the "raw" family drives on every input that parses (the
// `heavy` ones on every --heavy-every'th case; 1, every case, by default). A target whose
// API is not in the bundle yet reports itself unavailable rather than faking
// a run. Each returns its output so determinism can be checked.
export const TARGETS = [
  {
    name: "validate-kernel",
    available: () => true,
    deterministic: true,
    run(_ctx, btf) {
      try { btf.validateKernel(); return "ok"; } catch (e) { if (e?.code) return e.code; throw e; }
    },
  },
  { name: "dump-raw", available: () => true, deterministic: true, run: (_c, btf) => btf.dumpRawBytes() },
  { name: "dump-json", available: () => true, deterministic: true, run: (_c, btf) => btf.dumpJsonBytes() },
  {
    name: "write-big-endian-roundtrip",
    available: () => true,
    deterministic: true,
    run({ api, base }, btf) {
      const le = btf.toBytes();
      const be = btf.toBytes({ endian: "big" });
      // parse(write(x)) == x is an invariant on anything we accepted.
      const back = api.Btf.parse(le, { base });
      const same = back.dumpRaw() === btf.dumpRaw();
      back.free();
      if (!same) throw new Error("little-endian write/parse changed the types");
      return be;
    },
  },
  {
    name: "dump-c",
    heavy: true,
    available: (api) => typeof api.Btf.prototype.dumpC === "function",
    deterministic: true,
    run: (_c, btf) => btf.dumpC({ bare: true }),
  },
  {
    name: "distill-relocate",
    heavy: true,
    available: (api) => typeof api.distill === "function" && typeof api.relocate === "function",
    deterministic: false,
    run({ api, other }, btf) {
      const d = api.distill(btf);
      try {
        const r = api.relocate(d.split, other);
        r.btf.free();
      } catch (e) { if (!e?.code) throw e; }
      d.split.free(); d.base.free();
      return null;
    },
  },
  {
    // btfkit diff: a BTF against itself has no change (whatever the mutations
    // did to it), and the diff (details included) is deterministic.
    name: "diff-self",
    available: (api) => typeof api.diff === "function",
    deterministic: true,
    run({ api }, btf) {
      const r = api.diff(btf, btf);
      if (r.added.length || r.removed.length || r.changed.length) throw new Error(`diff of a BTF with itself: ${r.added.length} added, ${r.removed.length} removed, ${r.changed.length} changed`);
      return JSON.stringify(r.keys);
    },
  },
  {
    name: "dedup",
    heavy: true,
    available: (api) => typeof api.Btf.prototype.dedup === "function",
    deterministic: true,
    run(_c, btf) { const d = btf.dedup(); const b = d.toBytes(); d.free(); return b; },
  },
];
