// CI's fixed-seed fuzz smoke (issue 7): 2,000 structure-aware mutations of the
// fixture modules, every available entry point, no trap, no slow case.
import { describe, it, expect } from "vitest";
// @ts-ignore -- plain ESM harness shared with `npm run fuzz`
import { fuzz } from "../fuzz/run.mjs";
import * as api from "../src/index.js";

describe("fuzz smoke", () => {
  it("2,000 cases with seed 1 find nothing", async () => {
    const r = await fuzz({ cases: 2000, seed: 1, quiet: true, api });
    console.log(`fuzz smoke: ${r.counts.cases} cases, ${r.counts.rejected} rejected, ${r.counts.accepted} accepted, ${r.counts.targetRuns} target runs, ${r.seconds}s; codes ${JSON.stringify(r.byCode)}`);
    expect(r.counts.cases).toBe(2000);
    expect(r.counts.accepted).toBeGreaterThan(50);
    expect(r.counts.rejected).toBeGreaterThan(500);
    if (r.slow.length) console.log(`fuzz smoke: ${r.slow.length} cases over 1 s on this (possibly busy) machine; first: ${r.slow[0].label}`);
    expect(r.findings).toEqual([]);
  });
});
