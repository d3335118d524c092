// CI's fixed-seed fuzz smoke: 2,000 cases with seed 1, round-robin
// over every family (raw BTF, ELF modules, compressed/wrapped inputs, the
// Checker, the HTTP handler, BTF generated from scratch, BPF objects through
// the CO-RE reader and resolver): no trap, no stray
// exception, no finding. The heavy targets (C dump, dedup, distill+relocate
// on the whole vmlinux) run on every 4th case, to keep it near a minute.
import { describe, it, expect } from "vitest";
// @ts-ignore -- plain ESM harness shared with `npm run fuzz`
import { fuzz, FAMILIES } from "../fuzz/run.mjs";
import * as api from "../src/index.js";
import * as service from "../src/service/index.js";

interface FamilyStats { cases: number; seconds: number; outcomes: Record<string, number> }

describe("fuzz smoke", () => {
  it("2,000 cases with seed 1 over every family find nothing", async () => {
    const r = await fuzz({ cases: 2000, seed: 1, heavyEvery: 4, quiet: true, api, service });
    const per = r.perFamily as Record<string, FamilyStats>;
    for (const [name, f] of Object.entries(per)) {
      console.log(`fuzz smoke ${name}: ${f.cases} cases in ${f.seconds}s; ${JSON.stringify(f.outcomes)}`);
    }
    expect(r.cases).toBe(2000);
    expect(Object.keys(per).sort()).toEqual(FAMILIES.map((f: { name: string }) => f.name).sort());
    for (const [name, f] of Object.entries(per)) {
      expect(f.cases, name).toBeGreaterThanOrEqual(Math.floor(2000 / FAMILIES.length));
      const accepted = Object.entries(f.outcomes).filter(([k]) => k === "200" || k.startsWith("200:") || k.startsWith("accepted")).reduce((n, [, v]) => n + v, 0);
      // Each mutating family reaches both sides: inputs that get through and
      // inputs refused with a code; generated BTF is valid, so all of it gets through.
      expect(accepted, `${name} accepted`).toBeGreaterThan(10);
      if (name === "gen") expect(accepted, "gen accepted").toBe(f.cases);
      else expect(f.cases - accepted, `${name} refused`).toBeGreaterThan(50);
    }
    if (r.slow.length) console.log(`fuzz smoke: ${r.slow.length} cases over 1 s on this (possibly busy) machine; first: ${r.slow[0].label}`);
    expect(r.findings).toEqual([]);
  });
});
