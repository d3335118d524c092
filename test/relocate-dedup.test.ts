// relocate --dedup: relocation followed by btf__dedup against the new base
// folds distill's copies back into the kernel's ids, as the goldens show.
import { describe, it, expect, beforeAll } from "vitest";
import { readdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { init, Btf, relocate } from "../src/index.js";
import { fixture, fixturePath, equalBytes, cli, FIXTURES } from "./helpers.js";

beforeAll(async () => { await init(); });

const mods = readdirSync(join(FIXTURES, "golden/dedup/relocated-k61-50__to__k61-47")).map((f) => f.replace(/\.btf\.gz$/, ""));

describe("relocate with dedup", () => {
  it("API: relocate(split, base, { dedup: true }) equals libbpf's relocate + dedup", () => {
    const k47 = Btf.parse(fixture("k61-47/vmlinux.btf.gz"));
    for (const m of mods) {
      const dbase = Btf.parse(fixture(`golden/distill/k61-50/${m}.base.btf.gz`));
      const split = Btf.parse(fixture(`golden/distill/k61-50/${m}.split.btf.gz`), { base: dbase });
      const plain = relocate(split, k47);
      const folded = relocate(split, k47, { dedup: true });
      expect(equalBytes(folded.btf.toBytes({ header: 24 }), fixture(`golden/dedup/relocated-k61-50__to__k61-47/${m}.btf.gz`)), m).toBe(true);
      // Dedup removes the typedefs/pointers distill copied into the split.
      expect(folded.btf.typeCount, m).toBeLessThanOrEqual(plain.btf.typeCount);
      plain.btf.free(); folded.btf.free(); split.free(); dbase.free();
    }
    console.log(`relocate --dedup (fixtures): ${mods.length} modules`);
    expect(mods.length).toBeGreaterThan(3);
    k47.free();
  });

  it("CLI: relocate --dedup writes the same bytes", () => {
    const dir = mkdtempSync(join(tmpdir(), "btfkit-rd-"));
    const m = mods[0];
    writeFileSync(join(dir, "s.btf"), fixture(`golden/distill/k61-50/${m}.split.btf.gz`));
    writeFileSync(join(dir, "b.btf"), fixture(`golden/distill/k61-50/${m}.base.btf.gz`));
    const r = cli(["relocate", join(dir, "s.btf"), "--dist-base", join(dir, "b.btf"), "--base", fixturePath("k61-47/vmlinux.btf.gz"), "--dedup", "-o", join(dir, "o.btf")]);
    expect(r.code, r.stderr).toBe(0);
    expect(equalBytes(new Uint8Array(readFileSync(join(dir, "o.btf"))), fixture(`golden/dedup/relocated-k61-50__to__k61-47/${m}.btf.gz`))).toBe(true);
  });
});
