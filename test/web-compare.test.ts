// The explorer's comparisons (src/web/compare.ts, run in its worker), in
// Node on the vendored kernels: "changes between A and B" and one type
// "compared with" another document.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { init, loadBtf, diff, Btf, BtfBuilder } from "../src/index.js";
import { changesBetween, compareType } from "../src/web/compare.js";
import { fixture } from "./helpers.js";

let a: Btf, b: Btf;
beforeAll(async () => {
  await init();
  a = await loadBtf(fixture("k61-47/vmlinux.btf.gz"));
  b = await loadBtf(fixture("k61-50/vmlinux.btf.gz"));
});
afterAll(() => { a.free(); b.free(); });

describe("explorer comparisons", () => {
  it("changes between k61-47 and k61-50: counts per kind and items that open the right type", () => {
    const r = changesBetween(a, b, 1, 2);
    const d = diff(a, b, { details: false });
    expect(r.total).toEqual({ added: d.added.length, removed: d.removed.length, changed: d.changed.length, unchanged: d.keys.unchanged });
    expect(r.items.length).toBe(d.added.length + d.removed.length + d.changed.length);
    for (const c of r.counts) {
      expect(c.added).toBe(r.items.filter((i) => i.kind === c.kind && i.status === "added").length);
      expect(c.changed).toBe(r.items.filter((i) => i.kind === c.kind && i.status === "changed").length);
    }
    // Every item's id is a type of that kind and name in the document it opens.
    for (const i of r.items) {
      const btf = i.status === "removed" ? a : b;
      const t = btf.type(i.id);
      expect(`${t.kindName} ${t.name}`).toBe(`${i.kind} ${i.name}`);
    }
    console.log(`explorer changes k61-47 -> k61-50: ${JSON.stringify(r.total)} in ${r.ms.toFixed(1)} ms`);
  });

  it("compares struct device (changed), struct sk_buff (same), and refuses an INT", () => {
    const [dev] = a.find("device", "STRUCT");
    const r = compareType(a, 1, dev, b, 2, false);
    expect(r).toMatchObject({ kind: "STRUCT", name: "device", status: "changed", old: { doc: 1, id: dev, size: 744 }, new: { doc: 2, size: 752 } });
    // Viewed from the newer kernel, the other (older) document is the old side: the same answer.
    const [devB] = b.find("device", "STRUCT");
    expect(compareType(b, 2, devB, a, 1, true)).toMatchObject({ status: "changed", old: { doc: 1, size: 744 }, new: { doc: 2, id: devB, size: 752 } });
    const flags = r.change!.layout!.find((m) => m.name === "flags")!;
    expect(flags.change).toBe("added");
    expect(r.change!.layout!.filter((m) => m.change === "same").length).toBeGreaterThan(40);
    const [skb] = a.find("sk_buff", "STRUCT");
    expect(compareType(a, 1, skb, b, 2, false)).toMatchObject({ status: "same", old: { id: skb }, new: { id: b.find("sk_buff", "STRUCT")[0] } });
    const [int] = a.find("int", "INT");
    expect(() => compareType(a, 1, int, b, 2, false)).toThrow(/only named structs/);
    expect(() => compareType(a, 1, 0, b, 2, false)).toThrow(/type id 0/);
  });

  it("a type only on one side", () => {
    const mk = (v: boolean) => { const x = new BtfBuilder(); const i = x.addInt("int", 4); if (v) { x.addStruct("only", 4); x.addMember("a", i, 0); } x.addTypedef("t", i); return x.finish(); };
    const x = mk(true), y = mk(false);
    const [only] = x.find("only", "STRUCT");
    expect(compareType(x, 1, only, y, 2, false)).toMatchObject({ status: "only-old", old: { id: only }, new: { id: 0 } });
    expect(compareType(x, 1, only, y, 2, true)).toMatchObject({ status: "only-new", new: { id: only }, old: { id: 0 } });
    expect(compareType(y, 2, 2, x, 1, false)).toMatchObject({ status: "same", name: "t" });
    x.free(); y.free();
  });
});
