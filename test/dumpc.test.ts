// The C header dump against bpftool's output (goldens made with libbpf
// v1.8's btf_dump driven as bpftool's dump_btf_c), its options, and that the
// headers compile with clang for the BPF target (when clang is installed).
import { describe, it, expect, beforeAll } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { init, Btf, dumpCBytes, BtfError } from "../src/index.js";
import {
  fixture, fixturePath, readMaybeGz, equalBytes, firstDiff, HAS_CORPUS, CORPUS, GOLDEN, cli,
} from "./helpers.js";

beforeAll(async () => { await init(); });

const dec = new TextDecoder();

function expectSameBytes(got: Uint8Array, want: Uint8Array, label: string): void {
  if (!equalBytes(got, want)) {
    const at = firstDiff(got, want);
    const ctx = (b: Uint8Array) => JSON.stringify(dec.decode(b.subarray(Math.max(0, at - 80), at + 80)));
    throw new Error(`${label}: differs at byte ${at} (got ${got.length} bytes, want ${want.length})\n got: ${ctx(got)}\nwant: ${ctx(want)}`);
  }
}

function which(cmd: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;
}
const HAS_CLANG = which("clang");

/** Compile a tiny BPF program that includes `header` (and uses `body`); returns clang's stderr on failure. */
function compileBpf(header: Uint8Array, body: string): string | null {
  const dir = mkdtempSync(join(tmpdir(), "btfkit-dumpc-"));
  try {
    writeFileSync(join(dir, "vmlinux.h"), header);
    writeFileSync(join(dir, "prog.c"), `#include "vmlinux.h"\n${body}\nchar LICENSE[] __attribute__((section("license"))) = "GPL";\n`);
    const r = spawnSync("clang", ["-target", "bpf", "-O2", "-c", "prog.c", "-o", "prog.o"], { cwd: dir });
    return r.status === 0 ? null : r.stderr.toString().slice(0, 2000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const TASK_PROG = `__attribute__((section("tp/sched/sched_switch"))) int prog(struct task_struct *t) { return t->pid + t->tgid; }`;

describe("C header (fixtures)", () => {
  it("k61-50 vmlinux, sorted, is bpftool's header byte for byte", () => {
    const btf = Btf.parse(fixture("k61-50/vmlinux.btf.gz"));
    expectSameBytes(btf.dumpCBytes(), fixture("golden/c/k61-50/vmlinux.h.gz"), "k61-50 vmlinux.h");
    btf.free();
  });

  it("a module on its base (loop) prints base and module types together, as bpftool", () => {
    const base = Btf.parse(fixture("k61-50/vmlinux.btf.gz"));
    const mod = Btf.parse(fixture("k61-50/modules/loop.btf.gz"), { base });
    const out = mod.dumpCBytes();
    expectSameBytes(out, fixture("golden/c/k61-50/modules/loop.h.gz"), "loop.h");
    expect(dec.decode(out)).toContain("struct loop_device {");
    mod.free();
    base.free();
  });

  it("the CLI writes the same header (--format c, -o)", () => {
    const dir = mkdtempSync(join(tmpdir(), "btfkit-dumpc-cli-"));
    try {
      const out = join(dir, "loop.h");
      const r = cli(["dump", fixturePath("k61-50/modules/loop.btf.gz"), "--base", fixturePath("k61-50/vmlinux.btf.gz"), "--format", "c", "-o", out]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expectSameBytes(readMaybeGz(out), fixture("golden/c/k61-50/modules/loop.h.gz"), "CLI loop.h");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("--bpftool-compat leaves out exactly the type that sorts first", () => {
    const btf = Btf.parse(fixture("k61-50/vmlinux.btf.gz"));
    const full = dec.decode(btf.dumpCBytes({ bare: true }));
    const compat = dec.decode(btf.dumpCBytes({ bare: true, bpftoolCompat: true }));
    // The first top-level block of the complete header: bpftool's sorted
    // position 0 is an anonymous enum (rank 0), not VOID.
    const firstBlock = full.slice(0, full.indexOf("};\n\n") + 4);
    expect(firstBlock.startsWith("enum {\n")).toBe(true);
    expect(firstBlock.split("};").length).toBe(2);
    expect(compat).toBe(full.slice(firstBlock.length));
    // With the framing, the block is missing right after the preamble.
    const framed = dec.decode(btf.dumpCBytes());
    const framedCompat = dec.decode(btf.dumpCBytes({ bpftoolCompat: true }));
    expect(framedCompat.length).toBe(framed.length - firstBlock.length);
    expect(framed.replace(firstBlock, "")).toBe(framedCompat);
    // Unsorted dumps are the same either way (bpftool skips nothing there).
    expectSameBytes(btf.dumpCBytes({ unsorted: true, bpftoolCompat: true }), btf.dumpCBytes({ unsorted: true }), "unsorted compat");
    btf.free();
  });

  it("--bare drops the vmlinux.h framing and the kfunc block only", () => {
    const btf = Btf.parse(fixture("k61-50/vmlinux.btf.gz"));
    const framed = dec.decode(btf.dumpCBytes());
    const bare = dec.decode(btf.dumpCBytes({ bare: true }));
    expect(bare.startsWith("enum {")).toBe(true);
    expect(bare).not.toContain("__VMLINUX_H__");
    expect(bare).not.toContain("BPF kfuncs");
    const start = framed.indexOf(bare.slice(0, 200));
    expect(framed.slice(start, start + bare.length)).toBe(bare);
    expect(framed.slice(start + bare.length)).toMatch(/^\n\/\* BPF kfuncs \*\/\n#ifndef BPF_NO_KFUNC_PROTOTYPES\n/);
    btf.free();
  });

  it("--root sk_buff gives sk_buff and what it needs, nothing unrelated", () => {
    const btf = Btf.parse(fixture("k61-50/vmlinux.btf.gz"));
    const full = dec.decode(btf.dumpCBytes());
    const bytes = btf.dumpCBytes({ roots: ["sk_buff"] });
    const h = dec.decode(bytes);
    expect(h).toContain("struct sk_buff {");
    expect(h.startsWith("#ifndef __VMLINUX_H__\n")).toBe(true);
    expect(h).not.toContain("BPF kfuncs");
    // Pointed-to structs are only declared, not defined.
    expect(h).toContain("struct sock;");
    expect(h).not.toContain("struct sock {");
    expect(h).not.toContain("struct task_struct {");
    expect(h).not.toContain("struct net_device {");
    expect(h.length).toBeLessThan(full.length / 20);
    // Every named type sk_buff embeds (through typedefs, arrays and anonymous
    // members) is defined before sk_buff, each exactly once.
    const skbAt = h.indexOf("struct sk_buff {");
    const needed = embeddedNamedTypes(btf, btf.find("sk_buff", "STRUCT")[0]);
    expect(needed.bodies.length).toBeGreaterThan(3);
    expect(needed.typedefs.length).toBeGreaterThan(3);
    for (const decl of needed.bodies) {
      const at = h.indexOf(decl);
      expect(at, decl).toBeGreaterThanOrEqual(0);
      expect(at, decl).toBeLessThan(skbAt);
      expect(h.indexOf(decl, at + 1), decl).toBe(-1);
    }
    for (const name of needed.typedefs) {
      const m = new RegExp(`^typedef [^;]*\\b${name};$`, "m").exec(h);
      expect(m, `typedef ${name}`).not.toBeNull();
      expect(m!.index, name).toBeLessThan(skbAt);
    }
    // The same set by id, and with a kind word.
    expectSameBytes(btf.dumpCBytes({ roots: [btf.find("sk_buff", "STRUCT")[0]] }), bytes, "root by id");
    expectSameBytes(btf.dumpCBytes({ roots: ["struct sk_buff"] }), bytes, "root by kind and name");
    if (HAS_CLANG) {
      const err = compileBpf(bytes, `__attribute__((section("tc"))) int prog(struct sk_buff *skb) { return skb->len + skb->mark; }`);
      expect(err).toBeNull();
    }
    btf.free();
  });

  it("roots that name nothing are usage errors", () => {
    const btf = Btf.parse(fixture("k61-50/vmlinux.btf.gz"));
    expect(() => btf.dumpCBytes({ roots: ["no_such_type_here"] })).toThrow(BtfError);
    expect(() => btf.dumpCBytes({ roots: [btf.typeCount] })).toThrow(/out of range/);
    const r = cli(["dump", fixturePath("k61-50/vmlinux.btf.gz"), "--format", "c", "--root", "no_such_type_here"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no type named");
    btf.free();
  });

  it.runIf(HAS_CLANG)("the fixture headers compile with clang -target bpf", () => {
    const base = Btf.parse(fixture("k61-50/vmlinux.btf.gz"));
    expect(compileBpf(base.dumpCBytes(), TASK_PROG)).toBeNull();
    const mod = Btf.parse(fixture("k61-50/modules/loop.btf.gz"), { base });
    expect(compileBpf(mod.dumpCBytes(), `__attribute__((section("kprobe/x"))) int prog(struct loop_device *lo) { return lo->lo_number; }`)).toBeNull();
    mod.free();
    base.free();
  });

  it.skipIf(HAS_CLANG)("compile check skipped: clang is not installed", () => {
    console.log("dumpc: clang not found, the headers were NOT compiled (install clang to run the compile checks)");
  });
});

// ---- synthetic BTF: kinds the 6.1 corpus does not have ---------------------

/** A tiny raw-BTF writer for hand-made cases (24-byte header, little-endian). */
class RawBtf {
  private words: number[] = [];
  private strs: number[] = [0];
  private strOff = new Map<string, number>();
  private next = 1;
  str(s: string): number {
    if (s === "") return 0;
    let o = this.strOff.get(s);
    if (o === undefined) {
      o = this.strs.length;
      this.strs.push(...new TextEncoder().encode(s), 0);
      this.strOff.set(s, o);
    }
    return o;
  }
  /** A second copy of a string at a new offset (BTF does not require unique strings). */
  strCopy(s: string): number {
    const o = this.strs.length;
    this.strs.push(...new TextEncoder().encode(s), 0);
    return o;
  }
  addRaw(kind: number, nameOff: number, vlen: number, sizeOrType: number, extra: number[] = []): number {
    this.words.push(nameOff, (kind << 24) | vlen, sizeOrType, ...extra);
    return this.next++;
  }
  add(kind: number, name: string, vlen: number, kflag: boolean, sizeOrType: number, extra: number[] = []): number {
    this.words.push(this.str(name), ((kflag ? 1 : 0) << 31) | (kind << 24) | vlen, sizeOrType, ...extra);
    return this.next++;
  }
  int(name: string, size: number, signed = true): number { return this.add(1, name, 0, false, size, [((signed ? 1 : 0) << 24) | (size * 8)]); }
  ptr(t: number): number { return this.add(2, "", 0, false, t); }
  struct(name: string, size: number, members: [string, number, number][], kind = 4): number {
    return this.add(kind, name, members.length, false, size, members.flatMap(([n, t, off]) => [this.str(n), t, off]));
  }
  bytes(): Uint8Array {
    const typeLen = this.words.length * 4;
    const out = new Uint8Array(24 + typeLen + this.strs.length);
    const dv = new DataView(out.buffer);
    dv.setUint16(0, 0xeb9f, true); out[2] = 1; out[3] = 0;
    dv.setUint32(4, 24, true); dv.setUint32(8, 0, true); dv.setUint32(12, typeLen, true);
    dv.setUint32(16, typeLen, true); dv.setUint32(20, this.strs.length, true);
    this.words.forEach((w, i) => dv.setUint32(24 + i * 4, w >>> 0, true));
    out.set(this.strs, 24 + typeLen);
    return out;
  }
}

describe("C header (hand-made BTF)", () => {
  it("type tags: kind_flag set prints a raw attribute (libbpf 1.8), else btf_type_tag", () => {
    const b = new RawBtf();
    const int = b.int("int", 4);
    const tagRaw = b.add(18, "address_space(1)", 0, true, int);
    const tagStr = b.add(18, "user", 0, false, int);
    const s = b.struct("tagged", 16, [["a", b.ptr(tagRaw), 0], ["b", b.ptr(tagStr), 64]]);
    const btf = Btf.parse(b.bytes());
    const h = btf.dumpC({ roots: [s], bare: true });
    expect(h).toBe(
      "struct tagged {\n" +
      "\tint __attribute__((address_space(1))) *a;\n" +
      "\tint __attribute__((btf_type_tag(\"user\"))) *b;\n" +
      "};\n\n");
    btf.free();
  });

  it("kfunc prototypes: bpf_kfunc-tagged FUNCs by name, __bpf_fastcall when tagged so", () => {
    const b = new RawBtf();
    const int = b.int("int", 4);
    const proto = b.add(13, "", 1, false, int, [b.str("x"), int]);
    const zeta = b.add(12, "zeta_kfunc", 1, false, proto);
    const alpha = b.add(12, "alpha_kfunc", 1, false, proto);
    const plain = b.add(12, "not_a_kfunc", 1, false, proto);
    b.add(17, "bpf_kfunc", 0, false, zeta, [-1]);
    b.add(17, "bpf_kfunc", 0, false, alpha, [-1]);
    b.add(17, "bpf_fastcall", 0, false, alpha, [-1]);
    b.add(17, "bpf_kfunc", 0, false, plain, [0]); // a parameter tag, not the function
    const btf = Btf.parse(b.bytes());
    const h = btf.dumpC();
    expect(h).toContain(
      "\n/* BPF kfuncs */\n#ifndef BPF_NO_KFUNC_PROTOTYPES\n" +
      "extern __bpf_fastcall int alpha_kfunc(int x) __weak __ksym;\n" +
      "extern int zeta_kfunc(int x) __weak __ksym;\n" +
      "#endif\n\n");
    expect(h).not.toContain("not_a_kfunc");
    expect(h.endsWith("#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n#endif /* __VMLINUX_H__ */\n")).toBe(true);
    btf.free();
  });

  it("names used twice become NAME___2 (structs, typedefs and enumerators)", () => {
    const b = new RawBtf();
    const int = b.int("int", 4);
    const s1 = b.struct("dup", 4, [["a", int, 0]]);
    const s2 = b.struct("dup", 8, [["a", int, 0], ["b", int, 32]]);
    const e1 = b.add(6, "e1", 1, false, 4, [b.str("VAL"), 1]);
    const e2 = b.add(6, "e2", 1, false, 4, [b.str("VAL"), 2]);
    const holder = b.struct("holder", 12, [["x", s1, 0], ["y", s2, 32]]);
    const btf = Btf.parse(b.bytes());
    const h = btf.dumpC({ unsorted: true, bare: true });
    expect(h).toContain("struct dup {\n\tint a;\n};");
    expect(h).toContain("struct dup___2 {\n\tint a;\n\tint b;\n};");
    expect(h).toContain("\tstruct dup x;\n\tstruct dup___2 y;\n");
    expect(h).toContain("enum e1 {\n\tVAL = 1,\n};");
    expect(h).toContain("enum e2 {\n\tVAL___2 = 2,\n};");
    expect([e1, e2, holder].length).toBe(3);
    btf.free();
  });

  it("names are counted by content, not by string offset", () => {
    const b = new RawBtf();
    const int = b.int("int", 4);
    b.struct("same", 4, [["a", int, 0]]);
    b.addRaw(4, b.strCopy("same"), 1, 4, [b.str("b"), int, 0]);
    b.addRaw(8, b.strCopy("int_t"), 0, int);
    b.addRaw(8, b.strCopy("int_t"), 0, int);
    const btf = Btf.parse(b.bytes());
    const h = btf.dumpC({ unsorted: true, bare: true });
    expect(h).toBe("struct same {\n\tint a;\n};\n\nstruct same___2 {\n\tint b;\n};\n\ntypedef int int_t;\n\ntypedef int int_t___2;\n\n");
    btf.free();
  });

  it("pointer size: 8 by default when the BTF has no long, --ptr-size 4 changes the padding", () => {
    const b = new RawBtf();
    const int = b.int("int", 4);
    const vp = b.ptr(0);
    const s = b.struct("ps", 16, [["a", int, 0], ["p", vp, 64]]);
    const btf = Btf.parse(b.bytes());
    expect(btf.pointerSize).toBeUndefined();
    expect(btf.dumpC({ roots: [s], bare: true })).toBe("struct ps {\n\tint a;\n\tvoid *p;\n};\n\n");
    // 4-byte pointers: p is 4-aligned, so the gap before it and the tail need explicit padding.
    expect(btf.dumpC({ roots: [s], bare: true, ptrSize: 4 })).toBe("struct ps {\n\tint a;\n\tlong: 32;\n\tvoid *p;\n\tlong: 32;\n};\n\n");
    btf.free();
  });

  it("bitfields, packing and trailing padding", () => {
    const b = new RawBtf();
    const int = b.int("int", 4);
    const ch = b.int("char", 1);
    const long = b.int("long", 8);
    // struct bf { int a:3; int b:5; (gap) long c; } with kind_flag bitfields
    const bf = b.add(4, "bf", 3, true, 16, [b.str("a"), int, (3 << 24) | 0, b.str("b"), int, (5 << 24) | 3, b.str("c"), long, 64]);
    // packed: a long at byte offset 1
    const pk = b.struct("pk", 9, [["c", ch, 0], ["l", long, 8]]);
    // tail padding: size 24 with members ending at 12
    const tail = b.struct("tail", 24, [["l", long, 0], ["i", int, 64]]);
    const btf = Btf.parse(b.bytes());
    expect(btf.dumpC({ roots: [bf], bare: true })).toBe("struct bf {\n\tint a: 3;\n\tint b: 5;\n\tlong c;\n};\n\n");
    expect(btf.dumpC({ roots: [pk], bare: true })).toBe("struct pk {\n\tchar c;\n\tlong l;\n} __attribute__((packed));\n\n");
    expect(btf.dumpC({ roots: [tail], bare: true })).toBe("struct tail {\n\tlong l;\n\tint i;\n\tlong: 64;\n};\n\n");
    btf.free();
  });

  it("a struct that contains itself is an error, not a hang or a trap", () => {
    const b = new RawBtf();
    const int = b.int("int", 4);
    // struct a { int x; struct a self; } is impossible in C; libbpf reports an unsatisfiable cycle.
    const a = b.struct("a", 8, [["x", int, 0], ["self", int + 1, 32]]);
    expect(a).toBe(int + 1);
    const btf = Btf.parse(b.bytes());
    let err: unknown;
    try { btf.dumpC({ roots: [a] }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(BtfError);
    expect((err as BtfError).code).toBe("LOOP");
    expect((err as BtfError).message).toContain("unsatisfiable type cycle");
    // The core is still usable afterwards.
    expect(btf.dumpC({ roots: [int], bare: true })).toBe("");
    btf.free();
  });

  it("deep nesting of anonymous structs is handled without recursion", () => {
    const b = new RawBtf();
    const int = b.int("int", 4);
    let inner = b.struct("", 4, [["leaf", int, 0]]);
    const depth = 20000;
    for (let i = 0; i < depth; i++) inner = b.struct("", 4, [["", inner, 0]]);
    const top = b.struct("deep", 4, [["d", inner, 0]]);
    const btf = Btf.parse(b.bytes());
    const h = btf.dumpC({ roots: [top], bare: true });
    expect(h.split("struct {").length - 1).toBe(depth + 1);
    expect(h).toContain("\t\t\t\t\t\t\t\t\t\t\t\t\tint leaf;"); // indentation stops at 13 tabs
    btf.free();
  });
});

// ---- full corpus ------------------------------------------------------------

describe.runIf(HAS_CORPUS)("C header over the corpus", () => {
  it("every golden header is identical", () => {
    let n = 0;
    for (const k of ["k61-50", "k61-47", "k61-50-cloud"]) {
      const btf = Btf.parse(readMaybeGz(join(CORPUS, k, "vmlinux.btf.gz")));
      expectSameBytes(btf.dumpCBytes(), readMaybeGz(join(GOLDEN, "c", k, "vmlinux.h.gz")), `${k} sorted`);
      expectSameBytes(btf.dumpCBytes({ unsorted: true }), readMaybeGz(join(GOLDEN, "c", k, "vmlinux.unsorted.h.gz")), `${k} unsorted`);
      n += 2;
      btf.free();
    }
    const base = Btf.parse(readMaybeGz(join(CORPUS, "k61-50", "vmlinux.btf.gz")));
    for (const m of ["btrfs", "ext4", "kvm", "loop", "nf_conntrack"]) {
      const gold = join(GOLDEN, "c", "k61-50", "modules", `${m}.h.gz`);
      if (!existsSync(gold)) continue;
      const mod = Btf.parse(readMaybeGz(join(CORPUS, "k61-50", "modules", `${m}.btf`)), { base });
      expectSameBytes(mod.dumpCBytes(), readMaybeGz(gold), `module ${m}`);
      mod.free();
      n++;
    }
    base.free();
    console.log(`dumpc corpus: ${n} headers identical to the goldens`);
    expect(n).toBe(11);
  });

  it.runIf(HAS_CLANG)("each corpus kernel's header compiles with clang -target bpf", () => {
    let n = 0;
    for (const k of ["k61-50", "k61-47", "k61-50-cloud"]) {
      const btf = Btf.parse(readMaybeGz(join(CORPUS, k, "vmlinux.btf.gz")));
      expect(compileBpf(btf.dumpCBytes(), TASK_PROG), k).toBeNull();
      expect(compileBpf(btf.dumpCBytes({ unsorted: true }), TASK_PROG), `${k} unsorted`).toBeNull();
      btf.free();
      n += 2;
    }
    console.log(`dumpc corpus: ${n} headers compiled with clang -target bpf`);
  });
});

/**
 * What must precede a struct's definition: the bodies of the named
 * struct/union/enum types it embeds (not through pointers) and the typedefs
 * on the way, following anonymous members inline. Walked with a stack.
 */
function embeddedNamedTypes(btf: Btf, root: number): { bodies: string[]; typedefs: string[] } {
  const bodies = new Set<string>();
  const typedefs = new Set<string>();
  const seen = new Set<number>();
  const stack = btf.type(root).members.map((m) => m.type);
  while (stack.length) {
    const id = stack.pop()!;
    if (id === 0 || seen.has(id)) continue;
    seen.add(id);
    const t = btf.type(id);
    switch (t.kindName) {
      case "TYPEDEF":
        typedefs.add(t.name);
        stack.push(t.type!);
        break;
      case "CONST": case "VOLATILE": case "RESTRICT": case "TYPE_TAG":
        stack.push(t.type!);
        break;
      case "ARRAY":
        stack.push(t.array!.type);
        break;
      case "STRUCT": case "UNION":
        if (t.name) bodies.add(`${t.kindName === "STRUCT" ? "struct" : "union"} ${t.name} {`);
        else for (const m of t.members) stack.push(m.type);
        break;
      case "ENUM": case "ENUM64":
        if (t.name) bodies.add(`enum ${t.name} {`);
        break;
    }
  }
  return { bodies: [...bodies], typedefs: [...typedefs] };
}
