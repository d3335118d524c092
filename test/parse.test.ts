import { describe, it, expect, beforeAll } from "vitest";
import { init, Btf } from "../src/index.js";
import { fixture, fixtureModules, equalBytes, HAS_CORPUS, CORPUS, readMaybeGz, corpusModules } from "./helpers.js";
import { join } from "node:path";
import { readFileSync } from "node:fs";

beforeAll(async () => { await init(); });

describe("parse and write back (fixtures)", () => {
  it("parses k61-50 vmlinux with the corpus README's counts", () => {
    const btf = Btf.parse(fixture("k61-50/vmlinux.btf.gz"));
    expect(btf.typeCount - 1).toBe(100642);
    const k = btf.kindCounts();
    expect(k.STRUCT).toBe(8709);
    expect(k.FUNC).toBe(44561);
    expect(k.ENUM64).toBe(7);
    expect(btf.header.strLen).toBe(1790375);
    expect(btf.pointerSize).toBe(8);
    btf.free();
  });

  it("looks up types by name through a split", () => {
    const base = Btf.parse(fixture("k61-50/vmlinux.btf.gz"));
    const mod = Btf.parse(fixture("k61-50/modules/loop.btf.gz"), { base });
    expect(mod.startId).toBe(100643);
    expect(mod.startStrOff).toBe(1790375);
    const [skb] = mod.find("sk_buff", "STRUCT");
    expect(skb).toBeLessThan(mod.startId);
    const t = mod.type(skb);
    expect(t.kindName).toBe("STRUCT");
    expect(t.size).toBe(232);
    expect(t.members.length).toBeGreaterThan(10);
    mod.free();
    base.free();
  });

  it("round-trips every fixture module byte for byte, little- and big-endian", () => {
    for (const k of ["k61-50", "k61-47"]) {
      const baseBytes = fixture(`${k}/vmlinux.btf.gz`);
      const base = Btf.parse(baseBytes);
      expect(equalBytes(base.toBytes(), baseBytes)).toBe(true);
      const be = base.toBytes({ endian: "big" });
      expect(be[0]).toBe(0xeb);
      const fromBe = Btf.parse(be);
      expect(fromBe.endian).toBe("big");
      expect(equalBytes(fromBe.toBytes({ endian: "little" }), baseBytes)).toBe(true);
      for (const m of fixtureModules(k)) {
        const bytes = fixture(`${k}/modules/${m}.btf.gz`);
        const mod = Btf.parse(bytes, { base });
        expect(equalBytes(mod.toBytes(), bytes), m).toBe(true);
        const modBe = Btf.parse(mod.toBytes({ endian: "big" }), { base: fromBe });
        expect(equalBytes(modBe.toBytes({ endian: "little" }), bytes), m).toBe(true);
        expect(modBe.dumpRaw()).toBe(mod.dumpRaw());
        mod.free();
        modBe.free();
      }
      fromBe.free();
      base.free();
    }
  });
});

describe.runIf(HAS_CORPUS)("round trip over the whole corpus", () => {
  it("writes every corpus blob back unchanged", () => {
    let n = 0;
    for (const k of ["k61-50", "k61-47", "k61-50-cloud"]) {
      const baseBytes = readMaybeGz(join(CORPUS, k, "vmlinux.btf.gz"));
      const base = Btf.parse(baseBytes);
      expect(equalBytes(base.toBytes(), baseBytes)).toBe(true);
      n++;
      for (const m of corpusModules(k)) {
        const bytes = new Uint8Array(readFileSync(join(CORPUS, k, "modules", m + ".btf")));
        const mod = Btf.parse(bytes, { base });
        expect(equalBytes(mod.toBytes(), bytes), `${k}/${m}`).toBe(true);
        mod.free();
        n++;
      }
      base.free();
    }
    console.log(`corpus round trip: ${n} blobs checked`);
    expect(n).toBe(503);
  });
});
