import { describe, it, expect, beforeAll } from "vitest";
import { init, Btf, BtfBuilder, INT_SIGNED, layoutDiff } from "../src/index.js";
import { fixture } from "./helpers.js";

beforeAll(async () => { await init(); });

/** A tiny "kernel": struct inner { int a; int b; }; struct outer { long x; struct inner in; int *p; }. */
function kernel(opts: { swapInner?: boolean; innerTypedef?: string; arrayLen?: number } = {}): Btf {
  const b = new BtfBuilder();
  const int = b.addInt("int", 4, INT_SIGNED);
  const long = b.addInt("long", 8, INT_SIGNED);
  const inner = b.addStruct("inner", 8);
  if (opts.swapInner) { b.addMember("b", int, 0); b.addMember("a", int, 32); }
  else { b.addMember("a", int, 0); b.addMember("b", int, 32); }
  const innerRef = opts.innerTypedef ? b.addTypedef(opts.innerTypedef, inner) : inner;
  const ptr = b.addPtr(int);
  const arr = b.addArray(int, int, opts.arrayLen ?? 2);
  b.addStruct("outer", 40);
  b.addMember("x", long, 0);
  b.addMember("in", innerRef, 64);
  b.addMember("p", ptr, 128);
  b.addMember("v", arr, 192);
  return b.finish();
}

describe("layoutDiff (check --strict)", () => {
  it("finds nothing between identical layouts", () => {
    const a = kernel(), b = kernel();
    const [oa] = a.find("outer", "STRUCT"), [ob] = b.find("outer", "STRUCT");
    expect(layoutDiff(a, oa, b, ob)).toEqual([]);
  });

  it("catches fields that moved inside an embedded struct of equal size", () => {
    const a = kernel(), b = kernel({ swapInner: true });
    const [oa] = a.find("outer", "STRUCT"), [ob] = b.find("outer", "STRUCT");
    expect(a.type(oa).size).toBe(b.type(ob).size); // size-only matching would accept this
    const d = layoutDiff(a, oa, b, ob);
    expect(d.map((x) => `${x.path}:${x.what}`).sort()).toEqual(["outer.in.a:offset", "outer.in.b:offset"]);
    const off = d.find((x) => x.path === "outer.in.a" && x.what === "offset")!;
    expect([off.expected, off.found]).toEqual(["byte 0", "byte 4"]);
  });

  it("follows typedefs and arrays", () => {
    const a = kernel({ innerTypedef: "inner_t" }), b = kernel({ innerTypedef: "inner2_t", arrayLen: 3 });
    const d = layoutDiff(a, a.find("outer", "STRUCT")[0], b, b.find("outer", "STRUCT")[0]);
    expect(d.map((x) => `${x.path}:${x.what}:${x.expected}->${x.found}`).sort()).toEqual([
      "outer.in:typedef:inner_t->inner2_t",
      "outer.v:array length:2->3",
    ]);
  });

  it("compares real kernels: struct device drifts between 6.1.0-47 and 6.1.0-50", () => {
    const k50 = Btf.parse(fixture("k61-50/vmlinux.btf.gz"));
    const k47 = Btf.parse(fixture("k61-47/vmlinux.btf.gz"));
    const [d50] = k50.find("device", "STRUCT"), [d47] = k47.find("device", "STRUCT");
    expect(k50.type(d50).size).toBe(752);
    expect(k47.type(d47).size).toBe(744);
    const d = layoutDiff(k50, d50, k47, d47);
    expect(d.some((x) => x.path === "device" && x.what === "size")).toBe(true);
    // 6.1.0-50 added device.flags at the end: nothing moved, one member is new.
    expect(d).toContainEqual({ path: "device.flags", what: "member", expected: "present", found: "missing" });
    // The same struct in the same kernel compares equal.
    expect(layoutDiff(k50, d50, k50, d50)).toEqual([]);
    k50.free();
    k47.free();
  });
});

describe("embeddedBaseTypes", () => {
  it("lists base structs a module embeds, not those it only points to", async () => {
    const { embeddedBaseTypes } = await import("../src/index.js");
    const base = Btf.parse(fixture("k61-50/vmlinux.btf.gz"));
    const mod = Btf.parse(fixture("k61-50/modules/loop.btf.gz"), { base });
    const ids = [...embeddedBaseTypes(mod)];
    const names = ids.map((id) => mod.type(id).name);
    // struct loop_device embeds a struct mutex, struct list_head, struct work_struct ...
    expect(names).toContain("mutex");
    expect(names).toContain("list_head");
    // ... and holds struct file only through a pointer.
    expect(names).not.toContain("file");
    for (const id of ids) {
      expect(id).toBeLessThan(mod.startId);
      expect(["STRUCT", "UNION"]).toContain(mod.type(id).kindName);
    }
    mod.free();
    base.free();
  });
});
