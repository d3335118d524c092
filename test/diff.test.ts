// btfkit diff (issue 15): each rule of the definition on built BTF, the
// details of changed types, the CLI (text, JSON, history, exit codes), and
// real kernels checked against an independent reference (diff-reference.ts):
// the vendored k61-47 -> k61-50 pair always, the corpus pairs when
// ../shared/corpus exists (counts printed either way).

import { describe, it, expect, beforeAll } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { init, Btf, BtfBuilder, INT_SIGNED, diff, diffHistory, loadBtf } from "../src/index.js";
import { wasm } from "../src/core.js";
import { fixture, fixturePath, cli, HAS_CORPUS, CORPUS, readMaybeGz } from "./helpers.js";
import { referenceDiff, keysOf } from "./diff-reference.js";

beforeAll(async () => { await init(); });

type Build = (b: BtfBuilder, v: 0 | 1) => void;

/** Build the old (v = 0) and new (v = 1) BTF with the same function. */
function pair(build: Build): [Btf, Btf] {
  const make = (v: 0 | 1) => { const b = new BtfBuilder(); build(b, v); return b.finish(); };
  return [make(0), make(1)];
}

/** Keys as "KIND name" per status, checked against the reference too. */
function run(build: Build): { added: string[]; removed: string[]; changed: string[] } {
  const [a, b] = pair(build);
  try {
    const got = keysOf(diff(a, b));
    expect(got).toEqual(referenceDiff(a, b));
    return got;
  } finally {
    a.free();
    b.free();
  }
}

const changed = (build: Build) => run(build).changed;

/** Common base types: int, long, unsigned int, char. */
function basics(b: BtfBuilder) {
  return {
    int: b.addInt("int", 4, INT_SIGNED),
    long: b.addInt("long", 8, INT_SIGNED),
    uint: b.addInt("unsigned int", 4),
    char: b.addInt("char", 1, INT_SIGNED),
  };
}

describe("diff: the definition, rule by rule", () => {
  it("identical BTF built in another id order has no change", () => {
    const r = run((b, v) => {
      const t = basics(b);
      if (v) b.addFloat("double", 8);
      const s = b.addStruct("s", 8);
      b.addMember("a", t.int, 0);
      b.addMember("b", t.uint, 32);
      b.addTypedef("s_t", s);
      const ptr = b.addPtr(s);
      const p = b.addFuncProto(t.int);
      b.addParam("x", ptr);
      b.addFunc("f", p, "global");
      if (!v) b.addFloat("double", 8);
    });
    expect(r).toEqual({ added: [], removed: [], changed: [] });
  });

  it("a struct changes with a member's name, bit offset, bitfield size, type, or its size", () => {
    const variants: Array<(b: BtfBuilder, t: ReturnType<typeof basics>, v: 0 | 1) => void> = [
      (b, t, v) => { b.addStruct("s", 8); b.addMember(v ? "renamed" : "a", t.int, 0); },
      (b, t, v) => { b.addStruct("s", 8); b.addMember("a", t.int, v ? 32 : 0); },
      (b, t, v) => { b.addStruct("s", 8); b.addMember("a", t.uint, 0, v ? 4 : 3); },
      (b, t, v) => { b.addStruct("s", 8); b.addMember("a", v ? t.uint : t.int, 0); },
      (b, t, v) => { b.addStruct("s", v ? 16 : 8); b.addMember("a", t.int, 0); },
      (b, t, v) => { b.addStruct("s", 8); b.addMember("a", t.int, 0); if (v) b.addMember("b", t.int, 32); },
    ];
    for (const f of variants) expect(changed((b, v) => f(b, basics(b), v))).toEqual(["STRUCT s"]);
  });

  it("names are not followed: a member of a named struct type keeps the outer struct unchanged", () => {
    const r = run((b, v) => {
      const t = basics(b);
      const inner = b.addStruct("inner", v ? 8 : 4);
      b.addMember("x", t.int, 0);
      if (v) b.addMember("y", t.int, 32);
      const ptr = b.addPtr(inner);
      b.addStruct("outer", 8);
      b.addMember("p", ptr, 0);
      b.addUnion("u", 8);
      b.addMember("i", inner, 0); // by value, still by name
    });
    expect(r.changed).toEqual(["STRUCT inner"]);
  });

  it("anonymous members are inline: a change inside makes the outer struct change", () => {
    expect(changed((b, v) => {
      const t = basics(b);
      const anon = b.addUnion("", 4);
      b.addMember("x", t.int, 0);
      b.addMember(v ? "z" : "y", t.uint, 0);
      b.addStruct("outer", 8);
      b.addMember("", anon, 0);
      b.addMember("tail", t.int, 32);
    })).toEqual(["STRUCT outer"]);
    // An anonymous struct and an anonymous union of the same members differ.
    expect(changed((b, v) => {
      const t = basics(b);
      const anon = v ? b.addUnion("", 4) : b.addStruct("", 4);
      b.addMember("x", t.int, 0);
      b.addStruct("outer", 4);
      b.addMember("", anon, 0);
    })).toEqual(["STRUCT outer"]);
  });

  it("anonymous enums are inline by their values; named ones by name", () => {
    expect(changed((b, v) => {
      const t = basics(b);
      const e = b.addEnum("", 4);
      b.addEnumValue("A", 0);
      b.addEnumValue("B", v ? 2 : 1);
      b.addStruct("s", 4);
      b.addMember("e", e, 0);
      void t;
    })).toEqual(["STRUCT s"]);
    expect(changed((b, v) => {
      const e = b.addEnum("named", 4);
      b.addEnumValue("A", 0);
      b.addEnumValue("B", v ? 2 : 1);
      b.addStruct("s", 4);
      b.addMember("e", e, 0);
    })).toEqual(["ENUM named"]);
  });

  it("modifiers wrap their target: const, volatile, pointer depth and type tags count", () => {
    const cases: Array<(b: BtfBuilder, int: number, v: 0 | 1) => number> = [
      (b, int, v) => (v ? b.addConst(int) : int),
      (b, int, v) => (v ? b.addVolatile(int) : int),
      (b, int, v) => (v ? b.addPtr(b.addPtr(int)) : b.addPtr(int)),
      (b, int, v) => b.addPtr(b.addTypeTag(v ? "rcu" : "user", int)),
      (b, int, v) => (v ? b.addRestrict(b.addPtr(int)) : b.addPtr(int)),
    ];
    for (const f of cases) {
      expect(changed((b, v) => {
        const t = basics(b);
        const m = f(b, t.int, v);
        b.addStruct("s", 8);
        b.addMember("m", m, 0);
      })).toEqual(["STRUCT s"]);
    }
  });

  it("arrays are (count, element): the count counts, the index type does not", () => {
    expect(changed((b, v) => {
      const t = basics(b);
      const arr = b.addArray(t.char, t.int, v ? 16 : 8);
      b.addStruct("s", 16);
      b.addMember("a", arr, 0);
    })).toEqual(["STRUCT s"]);
    expect(changed((b, v) => {
      const t = basics(b);
      const arr = b.addArray(t.char, v ? t.long : t.int, 8);
      b.addStruct("s", 8);
      b.addMember("a", arr, 0);
    })).toEqual([]);
  });

  it("INT and FLOAT are (name, size): the encoding is not part of the shape", () => {
    expect(changed((b, v) => {
      const c = b.addInt("char", 1, v ? INT_SIGNED : 0);
      b.addTypedef("c_t", c);
    })).toEqual([]);
    expect(changed((b, v) => {
      const c = b.addInt(v ? "signed char" : "char", 1);
      b.addTypedef("c_t", c);
    })).toEqual(["TYPEDEF c_t"]);
    expect(changed((b, v) => {
      b.addTypedef("f_t", b.addFloat("double", v ? 16 : 8));
    })).toEqual(["TYPEDEF f_t"]);
  });

  it("a typedef is its target's shape: a named target by name, an anonymous one inline", () => {
    expect(changed((b, v) => {
      const t = basics(b);
      b.addTypedef("word", v ? t.long : t.int);
    })).toEqual(["TYPEDEF word"]);
    expect(changed((b, v) => {
      const t = basics(b);
      const s = b.addStruct("named", v ? 8 : 4);
      b.addMember("x", t.int, 0);
      b.addTypedef("named_t", s);
    })).toEqual(["STRUCT named"]);
    expect(changed((b, v) => {
      const t = basics(b);
      const s = b.addStruct("", v ? 8 : 4);
      b.addMember("x", t.int, 0);
      b.addTypedef("anon_t", s);
    })).toEqual(["TYPEDEF anon_t"]);
  });

  it("a function is (linkage, prototype): linkage, parameter names and types, return type", () => {
    const cases: Array<(b: BtfBuilder, t: ReturnType<typeof basics>, v: 0 | 1) => void> = [
      (b, t, v) => { const p = b.addFuncProto(t.int); b.addParam("x", t.int); b.addFunc("f", p, v ? "global" : "static"); },
      (b, t, v) => { const p = b.addFuncProto(t.int); b.addParam(v ? "y" : "x", t.int); b.addFunc("f", p); },
      (b, t, v) => { const p = b.addFuncProto(t.int); b.addParam("x", v ? t.long : t.int); b.addFunc("f", p); },
      (b, t, v) => { const p = b.addFuncProto(v ? t.long : t.int); b.addParam("x", t.int); b.addFunc("f", p); },
      (b, t, v) => { const p = b.addFuncProto(t.int); b.addParam("x", t.int); if (v) b.addParam("", 0); b.addFunc("f", p); },
    ];
    for (const f of cases) expect(changed((b, v) => f(b, basics(b), v))).toEqual(["FUNC f"]);
    // A function pointer typedef: its prototype is inline.
    expect(changed((b, v) => {
      const t = basics(b);
      const p = b.addFuncProto(t.int);
      b.addParam(v ? "b" : "a", t.int);
      b.addTypedef("cb_t", b.addPtr(p));
    })).toEqual(["TYPEDEF cb_t"]);
  });

  it("a forward declaration is struct or union; STRUCT x and UNION x are different keys", () => {
    expect(changed((b, v) => { b.addFwd("opaque", v ? "union" : "struct"); })).toEqual(["FWD opaque"]);
    const r = run((b, v) => {
      const t = basics(b);
      if (v) b.addUnion("x", 4); else b.addStruct("x", 4);
      b.addMember("a", t.int, 0);
    });
    expect(r).toEqual({ added: ["UNION x"], removed: ["STRUCT x"], changed: [] });
  });

  it("enums: size, signedness, names and values; ENUM64 values above 32 bits", () => {
    expect(changed((b, v) => { b.addEnum("e", 4); b.addEnumValue("A", v ? 2 : 1); })).toEqual(["ENUM e"]);
    expect(changed((b, v) => { b.addEnum("e", v ? 8 : 4); b.addEnumValue("A", 1); })).toEqual(["ENUM e"]);
    expect(changed((b, v) => { b.addEnum("e", 4); b.addEnumValue(v ? "B" : "A", 1); })).toEqual(["ENUM e"]);
    expect(changed((b, v) => { b.addEnum("e", 4); b.addEnumValue("A", 1); if (v) b.addEnumValue("NEG", -1); })).toEqual(["ENUM e"]);
    expect(changed((b, v) => { b.addEnum64("e64", 8); b.addEnum64Value("BIG", v ? 0x100000001n : 0x200000001n); })).toEqual(["ENUM64 e64"]);
    expect(changed((b, v) => { b.addEnum64("e64", 8, v === 1); b.addEnum64Value("BIG", 0x100000001n); })).toEqual(["ENUM64 e64"]);
    expect(changed((b) => { b.addEnum64("e64", 8); b.addEnum64Value("BIG", 0xffffffff00000001n); })).toEqual([]);
  });

  it("a name defined more than once is compared as a set of own shapes", () => {
    const dup = (b: BtfBuilder, int: number, size: number) => { b.addStruct("dup", size); b.addMember("a", int, 0); };
    // {4, 8} vs {8, 4, 8}: the same set.
    expect(run((b, v) => {
      const t = basics(b);
      if (v) { dup(b, t.int, 8); dup(b, t.int, 4); dup(b, t.int, 8); } else { dup(b, t.int, 4); dup(b, t.int, 8); }
    })).toEqual({ added: [], removed: [], changed: [] });
    // {4, 8} vs {4}: changed.
    expect(changed((b, v) => { const t = basics(b); dup(b, t.int, 4); if (!v) dup(b, t.int, 8); })).toEqual(["STRUCT dup"]);
    // Static functions of one name with different prototypes.
    expect(changed((b, v) => {
      const t = basics(b);
      const p1 = b.addFuncProto(t.int); b.addParam("a", t.int);
      const p2 = b.addFuncProto(t.long); b.addParam("a", t.int);
      b.addFunc("helper", p1);
      b.addFunc("helper", v ? p1 : p2);
    })).toEqual(["FUNC helper"]);
  });

  it("kind_flag only changes how offsets are stored: the decoded bit offsets are compared", () => {
    const [a, b] = pair((bb, v) => {
      const t = basics(bb);
      bb.addStruct("s", 8);
      bb.addMember("a", t.int, 0);
      bb.addMember("b", t.int, 32);
      if (v) wasm().builderSetKflag((bb as unknown as { handle: number }).handle, 1);
    });
    expect(a.type(5).kflag).toBe(false);
    expect(b.type(5).kflag).toBe(true);
    expect(b.type(5).members.map((m) => m.bitOffset)).toEqual([0, 32]);
    expect(keysOf(diff(a, b)).changed).toEqual([]);
    a.free(); b.free();
    // With a bitfield (kind_flag set on both), its size is part of the shape.
    expect(changed((bb, v) => {
      const t = basics(bb);
      bb.addStruct("s", 4);
      bb.addMember("a", t.uint, 0, 3);
      bb.addMember("b", t.uint, 3, v ? 5 : 4);
    })).toEqual(["STRUCT s"]);
  });

  it("only named STRUCT/UNION/ENUM/ENUM64/TYPEDEF/FUNC/FWD are keys", () => {
    const r = run((b, v) => {
      const t = basics(b);
      if (!v) return;
      b.addStruct("", 4); b.addMember("x", t.int, 0);
      b.addEnum("", 4); b.addEnumValue("Q", 1);
      b.addInt("new_int", 2);
      const x = b.addVar("counter", t.int, "global");
      b.addDatasec(".bss", 4); b.addVarSecInfo(x, 0, 4);
      b.addDeclTag("tag", x, -1);
      b.addFuncProto(t.int);
      b.addPtr(t.int);
    });
    expect(r).toEqual({ added: [], removed: [], changed: [] });
    expect(run((b, v) => { basics(b); if (v) { b.addTypedef("t", 1); b.addFwd("f", "struct"); b.addEnum64("e", 8); } }).added)
      .toEqual(["ENUM64 e", "FWD f", "TYPEDEF t"]);
  });

  it("a reference cycle through anonymous types ends (hostile BTF) and is deterministic", () => {
    // struct { struct {...} *self; } built by pointing a PTR forward at the anonymous struct.
    const build = () => {
      const b = new BtfBuilder();
      const int = b.addInt("int", 4, INT_SIGNED); // 1
      const ptr = b.addPtr(3); // 2 -> 3
      const anon = b.addStruct("", 16); // 3
      b.addMember("self", ptr, 0);
      b.addMember("v", int, 64);
      b.addTypedef("loop_t", anon);
      return b.finish();
    };
    const a = build(), b = build();
    expect(keysOf(diff(a, b))).toEqual({ added: [], removed: [], changed: [] });
    a.free(); b.free();
  });

  it("deep anonymous nesting does not recurse in the core", () => {
    const deep = (n: number, last: number) => {
      const b = new BtfBuilder();
      const int = b.addInt("int", 4, INT_SIGNED);
      let inner = int;
      for (let i = 0; i < n; i++) { const s = b.addStruct("", 4); b.addMember(i === 0 ? `x${last}` : "m", inner, 0); inner = s; }
      b.addTypedef("deep_t", inner);
      return b.finish();
    };
    const a = deep(100000, 0), b = deep(100000, 1), c = deep(100000, 0);
    expect(keysOf(diff(a, b)).changed).toEqual(["TYPEDEF deep_t"]);
    expect(keysOf(diff(a, c)).changed).toEqual([]);
    a.free(); b.free(); c.free();
  });

  it("with a base, only the modules' own types are keyed; their shapes reach into the base", () => {
    const base = (() => { const b = new BtfBuilder(); basics(b); const s = b.addStruct("kernel_s", 4); b.addMember("k", 1, 0); void s; return b.finish(); })();
    const mod = (v: 0 | 1) => {
      const b = new BtfBuilder(base);
      const s = b.addStruct("mod_s", 8);
      b.addMember("ks", 5, 0);
      b.addMember("x", v ? 3 : 1, 32);
      void s;
      return b.finish();
    };
    const a = mod(0), b = mod(1);
    const r = diff(a, b);
    expect(keysOf(r)).toEqual({ added: [], removed: [], changed: ["STRUCT mod_s"] });
    expect(r.keys).toEqual({ old: 1, new: 1, unchanged: 0 });
    a.free(); b.free(); base.free();
  });
});

describe("diff: details of changed types", () => {
  it("members: added, removed, moved, resized, retyped, with offsets and labels", () => {
    const [a, b] = pair((bb, v) => {
      const t = basics(bb);
      bb.addStruct("s", v ? 24 : 16);
      bb.addMember("same", t.int, 0);
      if (v) { bb.addMember("grown", t.long, 64); bb.addMember("kept", t.int, 128); bb.addMember("fresh", t.int, 160); bb.addMember("sign", t.uint, 32); }
      else { bb.addMember("grown", t.int, 64); bb.addMember("kept", t.int, 96); bb.addMember("gone", t.char, 32); bb.addMember("sign", t.int, 40); }
    });
    const r = diff(a, b);
    const c = r.changed[0];
    expect(c.size).toEqual([16, 24]);
    const byName = Object.fromEntries(c.members!.map((m) => [m.name, m]));
    expect(Object.keys(byName).sort()).toEqual(["fresh", "gone", "grown", "kept", "sign"]);
    expect(byName.grown).toMatchObject({ change: "resized", old: { offset: 64, size: 4, type: "int" }, new: { offset: 64, size: 8, type: "long" } });
    expect(byName.kept).toMatchObject({ change: "moved", old: { offset: 96 }, new: { offset: 128 } });
    expect(byName.fresh).toMatchObject({ change: "added", new: { offset: 160, type: "int" } });
    expect(byName.fresh.old).toBeUndefined();
    expect(byName.gone).toMatchObject({ change: "removed", old: { offset: 32, size: 1, type: "char" } });
    expect(byName.sign).toMatchObject({ change: "retyped", moved: true, old: { type: "int", offset: 40 }, new: { type: "unsigned int", offset: 32 } });
    expect(c.layout!.find((m) => m.name === "same")!.change).toBe("same");
    a.free(); b.free();
  });

  it("enum values, function parameters, typedef targets, linkage", () => {
    const [a, b] = pair((bb, v) => {
      const t = basics(bb);
      bb.addEnum("e", 4);
      bb.addEnumValue("KEEP", 0);
      bb.addEnumValue("MOVE", v ? 5 : 1);
      bb.addEnumValue(v ? "NEW" : "OLD", 2);
      bb.addEnum64("e64", 8, true);
      bb.addEnum64Value("BIG", v ? -5n : 0x100000000n);
      const p = bb.addFuncProto(v ? t.long : t.int);
      bb.addParam("a", t.int);
      bb.addParam("b", v ? t.uint : t.int);
      if (v) bb.addParam("c", t.char);
      bb.addFunc("f", p, v ? "global" : "static");
      bb.addTypedef("td", v ? bb.addPtr(t.char) : t.char);
    });
    const r = diff(a, b);
    const by = Object.fromEntries(r.changed.map((c) => [`${c.kind} ${c.name}`, c]));
    expect(Object.keys(by).sort()).toEqual(["ENUM e", "ENUM64 e64", "FUNC f", "TYPEDEF td"]);
    expect(by["ENUM e"].values).toEqual([
      { name: "MOVE", change: "renumbered", old: 1n, new: 5n },
      { name: "NEW", change: "added", new: 2n },
      { name: "OLD", change: "removed", old: 2n },
    ]);
    expect(by["ENUM64 e64"].values).toEqual([{ name: "BIG", change: "renumbered", old: 0x100000000n, new: -5n }]);
    expect(by["FUNC f"]).toMatchObject({ linkage: ["static", "global"], return: ["int", "long"] });
    expect(by["FUNC f"].params).toEqual([
      { name: "b", change: "retyped", old: { index: 1, type: "int" }, new: { index: 1, type: "unsigned int" } },
      { name: "c", change: "added", new: { index: 2, type: "char" } },
    ]);
    expect(by["TYPEDEF td"].type).toEqual(["char", "char *"]);
    a.free(); b.free();
  });

  it("--type filters keys; history groups BTFs by definition", () => {
    const mk = (size: number, extra: boolean) => {
      const b = new BtfBuilder();
      const t = basics(b);
      b.addStruct("tracked", size);
      b.addMember("a", t.int, 0);
      if (extra) b.addMember("b", t.int, 32);
      b.addStruct("other", size);
      b.addMember("z", t.int, 0);
      return b.finish();
    };
    const k1 = mk(4, false), k2 = mk(8, true), k3 = mk(4, false), k4 = mk(8, true);
    expect(keysOf(diff(k1, k2, { types: ["struct tracked"] }))).toEqual({ added: [], removed: [], changed: ["STRUCT tracked"] });
    const several = diff(k1, k2, { types: ["tracked", "struct tracked", "union other", "nothing"] });
    expect(keysOf(several).changed).toEqual(["STRUCT tracked"]);
    expect(several.changed[0]).toMatchObject({ oldCount: 1, newCount: 1 });
    expect(several.keys).toEqual({ old: 1, new: 1, unchanged: 0 });
    expect(diff(k1, k2, { types: ["tracked", "struct other"] }).keys).toEqual({ old: 2, new: 2, unchanged: 0 });
    const h = diffHistory([k1, k2, k3, k4], "struct tracked");
    expect(h.groups).toEqual([0, 1, 0, 1]);
    expect(h.steps.map((s) => [s.from, s.to])).toEqual([[0, 1], [1, 2], [2, 3]]);
    expect(h.steps[0].result.changed[0].members!.map((m) => `${m.name}:${m.change}`)).toEqual(["b:added"]);
    for (const k of [k1, k2, k3, k4]) k.free();
  });
});

describe("btfkit diff (CLI)", () => {
  const dir = mkdtempSync(join(tmpdir(), "btfkit-diff-"));
  const write = (name: string, btf: Btf) => { const p = join(dir, name); writeFileSync(p, btf.toBytes()); return p; };

  it("prints the summary and pahole-style layouts; exit 1 on differences, 0 without, 2 on bad usage", () => {
    const [a, b] = pair((bb, v) => {
      const t = basics(bb);
      bb.addStruct("s", 8);
      bb.addMember("a", t.int, 0);
      bb.addMember(v ? "b2" : "b", t.int, 32);
      if (v) bb.addTypedef("added_t", t.int);
    });
    const pa = write("a.btf", a), pb = write("b.btf", b);
    const r = cli(["diff", pa, pb]);
    expect(r.code).toBe(1);
    const text = r.stdout.toString();
    expect(text).toMatch(/STRUCT\s+0\s+0\s+1/);
    expect(text).toMatch(/TYPEDEF\s+1\s+0\s+0/);
    expect(text).toContain("+ typedef added_t");
    expect(text).toContain("~ struct s");
    expect(text).toMatch(/\+\tint\s+b2;\s+\/\* 4 4 \*\//);
    expect(text).toMatch(/-\tint\s+b;\s+\/\* 4 4 \*\//);
    const j = JSON.parse(cli(["diff", pa, pb, "--json"]).stdout.toString());
    expect(j.added).toEqual([{ kind: "TYPEDEF", name: "added_t" }]);
    expect(j.removed).toEqual([]);
    expect(j.changed[0]).toMatchObject({ kind: "STRUCT", name: "s" });
    expect(j.changed[0].members.map((m: { name: string; change: string }) => `${m.name}:${m.change}`).sort()).toEqual(["b2:added", "b:removed"]);
    expect(j.changed[0].layout).toBeUndefined();
    expect(cli(["diff", pa, pa]).code).toBe(0);
    expect(cli(["diff", pa]).code).toBe(2);
    expect(cli(["diff", pa, pb, pa]).code).toBe(2); // history needs --type
    expect(cli(["diff", pa, join(dir, "missing.btf")]).code).toBe(2);
    const h = cli(["diff", pa, pb, pa, "--type", "struct s"]);
    expect(h.code).toBe(1);
    expect(h.stdout.toString()).toMatch(/\[A\] .*a\.btf\n {2}\[B\] .*b\.btf\n {2}\[A\] .*a\.btf/);
    a.free(); b.free();
  });

  it("diffs two modules, each on its own kernel (--old-base/--new-base)", async () => {
    const kernel = (v: 0 | 1) => { const b = new BtfBuilder(); const t = basics(b); b.addStruct("k", v ? 8 : 4); b.addMember("x", t.int, 0); return b.finish(); };
    const k0 = kernel(0), k1 = kernel(1);
    const mod = (base: Btf, v: 0 | 1) => { const b = new BtfBuilder(base); b.addStruct("m", 8); b.addMember("k", 5, 0); if (v) b.addTypedef("m_t", 6); return b.finish(); };
    const m0 = mod(k0, 0), m1 = mod(k1, 1);
    const r = cli(["diff", write("m0.btf", m0), write("m1.btf", m1), "--old-base", write("k0.btf", k0), "--new-base", write("k1.btf", k1), "--json"]);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout.toString());
    // struct m embeds struct k by name: unchanged although k grew; m_t is new.
    expect(j).toMatchObject({ added: [{ kind: "TYPEDEF", name: "m_t" }], removed: [], changed: [] });
    for (const x of [m0, m1, k0, k1]) x.free();
  });
});

function checkKernelPair(label: string, oldBytes: Uint8Array, newBytes: Uint8Array): Promise<void> {
  return (async () => {
    const a = await loadBtf(oldBytes), b = await loadBtf(newBytes);
    try {
      const r = diff(a, b);
      const ref = referenceDiff(a, b);
      expect(keysOf(r)).toEqual(ref);
      // The core hands records out sorted by kind number, then name bytes.
      const order = ["STRUCT", "UNION", "ENUM", "FWD", "TYPEDEF", "FUNC", "ENUM64"];
      for (const list of [r.added, r.removed, r.changed]) {
        for (let i = 1; i < list.length; i++) {
          const x = list[i - 1], y = list[i];
          const byKind = order.indexOf(x.kind) - order.indexOf(y.kind);
          expect(byKind < 0 || (byKind === 0 && Buffer.compare(Buffer.from(x.name), Buffer.from(y.name)) < 0), `${x.kind} ${x.name} before ${y.kind} ${y.name}`).toBe(true);
        }
      }
      expect(r.keys.unchanged + r.changed.length + r.removed.length).toBe(r.keys.old);
      console.log(`diff ${label}: ${r.added.length} added, ${r.removed.length} removed, ${r.changed.length} changed, ${r.keys.unchanged} unchanged (of ${r.keys.old} -> ${r.keys.new} keys); equal to the reference`);
    } finally {
      a.free();
      b.free();
    }
  })();
}

describe("diff on real kernels, against the reference", () => {
  it("vendored k61-47 -> k61-50", async () => {
    await checkKernelPair("fixtures k61-47 -> k61-50", fixture("k61-47/vmlinux.btf.gz"), fixture("k61-50/vmlinux.btf.gz"));
    // struct device grew by 8 bytes between the two (check's fixture story).
    const a = await loadBtf(fixture("k61-47/vmlinux.btf.gz")), b = await loadBtf(fixture("k61-50/vmlinux.btf.gz"));
    const dev = diff(a, b, { types: ["struct device"] }).changed[0];
    expect(dev.size).toEqual([744, 752]);
    a.free(); b.free();
    void fixturePath;
  }, 120_000);

  it("corpus pairs k61-47 -> k61-50 and k61-50-cloud -> k61-50", async () => {
    if (!HAS_CORPUS) {
      console.log("diff (corpus): ../shared/corpus absent, 0 pairs checked");
      return;
    }
    const k = (n: string) => readMaybeGz(join(CORPUS, n, "vmlinux.btf.gz"));
    await checkKernelPair("corpus k61-47 -> k61-50", k("k61-47"), k("k61-50"));
    await checkKernelPair("corpus k61-50-cloud -> k61-50", k("k61-50-cloud"), k("k61-50"));
    console.log("diff (corpus): 2 pairs checked");
  }, 240_000);
});

// Random type graphs: a description is built twice, the second time after a
// few random edits; the core must agree with the reference on every pair.
type Desc = { kind: string; name: string; a: number; b: number; c: number; elems: [string, number, number, number][] };

function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return (n: number) => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s % n; };
}

function randomDesc(r: (n: number) => number, count: number): Desc[] {
  const names = ["a", "b", "c", "d", ""];
  const kinds = ["INT", "FLOAT", "PTR", "CONST", "TYPE_TAG", "ARRAY", "STRUCT", "UNION", "ENUM", "ENUM64", "TYPEDEF", "PROTO", "FUNC", "FWD"];
  const out: Desc[] = [];
  for (let i = 0; i < count; i++) {
    const kind = i === 0 ? "INT" : kinds[r(kinds.length)];
    const prev = () => r(i + 1); // 0 (void) .. i (ids are index + 1)
    const d: Desc = { kind, name: names[r(names.length)], a: r(3), b: prev(), c: r(4), elems: [] };
    if (kind === "STRUCT" || kind === "UNION" || kind === "PROTO" || kind === "ENUM" || kind === "ENUM64") {
      const n = r(4);
      for (let j = 0; j < n; j++) d.elems.push([names[r(names.length)] + j, prev(), r(3) * 8, r(2) ? 0 : 1 + r(3)]);
    }
    out.push(d);
  }
  return out;
}

function mutate(r: (n: number) => number, d: Desc[]): Desc[] {
  const m: Desc[] = d.map((x) => ({ ...x, elems: x.elems.map((e) => [...e] as [string, number, number, number]) }));
  const edits = 1 + r(3);
  for (let k = 0; k < edits; k++) {
    const t = m[r(m.length)];
    switch (r(6)) {
      case 0: t.name = ["a", "b", "c", "e", ""][r(5)]; break;
      case 1: t.a = r(3); break;
      case 2: t.c = r(4); break;
      case 3: if (t.elems.length) t.elems[r(t.elems.length)][2] += 8; break;
      case 4: if (t.elems.length) t.elems[r(t.elems.length)][3] = r(4); break;
      case 5: if (t.elems.length) t.elems.pop(); break;
    }
  }
  return m;
}

function buildDesc(d: Desc[]): Btf {
  const b = new BtfBuilder();
  d.forEach((t, i) => {
    const ref = Math.min(t.b, i); // only earlier ids: no cycle through anonymous types
    switch (t.kind) {
      case "INT": b.addInt(t.name || "int", 1 << t.a, t.c & 1 ? INT_SIGNED : 0); break;
      case "FLOAT": b.addFloat(t.name || "double", 4 << t.a); break;
      case "PTR": b.addPtr(ref); break;
      case "CONST": b.addConst(ref); break;
      case "TYPE_TAG": b.addTypeTag(t.name || "tag", ref); break;
      case "ARRAY": b.addArray(ref, 1, t.c); break;
      case "STRUCT": case "UNION": {
        if (t.kind === "STRUCT") b.addStruct(t.name, 16 + 8 * t.a); else b.addUnion(t.name, 16 + 8 * t.a);
        for (const [n, ty, off, bits] of t.elems) b.addMember(t.c === 3 ? "" : n, Math.min(ty, i), off, bits ? Math.min(bits, 7) : 0);
        break;
      }
      case "ENUM": b.addEnum(t.name, 4); for (const [n, , off] of t.elems) b.addEnumValue(`${n}_${t.name}`, off - 8 * t.a); break;
      case "ENUM64": b.addEnum64(t.name, 8, t.c === 1); for (const [n, , off] of t.elems) b.addEnum64Value(`${n}_${t.name}`, BigInt(off) << 33n); break;
      case "TYPEDEF": b.addTypedef(t.name || "td", ref); break;
      case "PROTO": { b.addFuncProto(ref); for (const [n, ty] of t.elems) b.addParam(n, Math.min(ty, i)); break; }
      case "FUNC": {
        // A FUNC needs a prototype: add one just before it.
        const p = b.addFuncProto(ref);
        b.addParam("x", Math.min(t.c, i));
        b.addFunc(t.name || "fn", p, t.a);
        break;
      }
      case "FWD": b.addFwd(t.name || "fw", t.c & 1 ? "union" : "struct"); break;
    }
  });
  return b.finish();
}

describe("diff: random type graphs against the reference", () => {
  it("agrees on 300 random pairs", () => {
    let checked = 0, withChanges = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const r = rng(seed * 7919);
      const d = randomDesc(r, 10 + r(30));
      let a: Btf | undefined, b: Btf | undefined;
      try {
        a = buildDesc(d);
        b = buildDesc(mutate(r, d));
      } catch {
        a?.free(); b?.free();
        continue; // an edit the builder refuses (e.g. an INT of size 0): not a diff case
      }
      const got = keysOf(diff(a, b));
      expect(got, `seed ${seed}`).toEqual(referenceDiff(a, b));
      checked++;
      if (got.added.length + got.removed.length + got.changed.length) withChanges++;
      a.free(); b.free();
    }
    console.log(`diff (random): ${checked} pairs equal to the reference, ${withChanges} with differences`);
    expect(checked).toBeGreaterThan(200);
    expect(withChanges).toBeGreaterThan(100);
  });
});
