import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync, readdirSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  init, Btf, BtfError, loadBtfSync, readElf, elfBtfSections, btfFromElf,
  replaceElfSections, remapBtfIds,
} from "../src/index.js";
import type { ElfLayout } from "../src/index.js";
import { fixture, fixturePath, equalBytes, firstDiff, HAS_CORPUS, CORPUS, readMaybeGz, cli } from "./helpers.js";

beforeAll(async () => { await init(); });

// ---- external tools ---------------------------------------------------------

const TMP = mkdtempSync(join(tmpdir(), "btfkit-elf-"));
let tmpN = 0;
function tmpFile(bytes: Uint8Array): string {
  const p = join(TMP, `f${tmpN++}.o`);
  writeFileSync(p, bytes);
  return p;
}
function have(tool: string): boolean {
  return spawnSync(tool, ["--version"]).status === 0;
}
const HAVE_READELF = have("readelf");
const HAVE_OBJCOPY = have("llvm-objcopy");
if (!HAVE_READELF) console.log("readelf not found: the readelf acceptance checks are skipped (apt-get install binutils)");
if (!HAVE_OBJCOPY) console.log("llvm-objcopy not found: the llvm-objcopy acceptance checks are skipped (apt-get install llvm)");

/** readelf -a must run cleanly (no error, no warning) and llvm-objcopy must copy the file. */
function externalToolsAccept(bytes: Uint8Array, what: string): void {
  const f = tmpFile(bytes);
  if (HAVE_READELF) {
    const r = spawnSync("readelf", ["-a", "-W", f], { maxBuffer: 1 << 28 });
    expect(r.status, `${what}: readelf -a exit`).toBe(0);
    expect(r.stderr.toString(), `${what}: readelf -a stderr`).toBe("");
  }
  if (HAVE_OBJCOPY) {
    const r = spawnSync("llvm-objcopy", [f, f + ".copy"]);
    expect(r.status, `${what}: llvm-objcopy: ${r.stderr}`).toBe(0);
  }
}

/** readelf output that must not change when only BTF sections are edited. */
function readelfView(bytes: Uint8Array, args: string[]): string | undefined {
  if (!HAVE_READELF) return undefined;
  const r = spawnSync("readelf", [...args, "-W", tmpFile(bytes)], { maxBuffer: 1 << 28 });
  return r.stdout.toString();
}

// ---- helpers -------------------------------------------------------------------

function sectionBytes(bytes: Uint8Array, layout: ElfLayout, name: string): Uint8Array {
  const s = layout.sections.filter((x) => x.name === name).pop();
  if (!s) throw new Error(`no ${name}`);
  return bytes.subarray(s.offset, s.offset + s.size);
}

function expectCode(fn: () => unknown, code: string, offset?: number): BtfError {
  let err: unknown;
  try { fn(); } catch (e) { err = e; }
  expect(err, `expected ${code}`).toBeInstanceOf(BtfError);
  const be = err as BtfError;
  expect(be.code, be.message).toBe(code);
  if (offset !== undefined) expect(be.offset, be.message).toBe(offset);
  return be;
}

/**
 * After replaceElfSections: the old sections keep index, name, type, flags
 * and bytes (except the replaced ones and .shstrtab, which only grows), and
 * the new ones are appended.
 */
function checkOtherSectionsUnchanged(before: Uint8Array, after: Uint8Array, replaced: string[]): void {
  const a = readElf(before);
  const b = readElf(after);
  expect(b.sections.length).toBeGreaterThanOrEqual(a.sections.length);
  expect(b.shstrndx).toBe(a.shstrndx);
  for (const s of a.sections) {
    const t = b.sections[s.index];
    expect(t.name).toBe(s.name);
    expect([t.type, t.flags, t.link, t.info, t.align, t.entsize, t.addr]).toEqual([s.type, s.flags, s.link, s.info, s.align, s.entsize, s.addr]);
    if (replaced.includes(s.name) || s.type === 8 || s.type === 0) continue;
    const x = before.subarray(s.offset, s.offset + s.size);
    const y = after.subarray(t.offset, t.offset + t.size);
    if (s.index === a.shstrndx) {
      expect(equalBytes(y.subarray(0, x.length), x), ".shstrtab keeps its old names").toBe(true);
      continue;
    }
    expect(t.offset, s.name).toBe(s.offset);
    expect(equalBytes(x, y), `${s.name} bytes (first diff ${firstDiff(x, y)})`).toBe(true);
  }
}

const u32 = (b: Uint8Array, off: number, big = false) => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(off, !big);

/** An id map that adds `shift` to every id in 1..n-1 (0 stays unmapped). */
function shiftMap(n: number, shift: number): Uint32Array {
  const m = new Uint32Array(n + Math.max(shift, 0) + 1);
  for (let i = 1; i < n; i++) m[i] = i + shift;
  return m;
}
function inverse(map: Uint32Array): Uint32Array {
  let max = 0;
  for (const v of map) max = Math.max(max, v);
  const inv = new Uint32Array(max + 1);
  map.forEach((v, i) => { if (v) inv[v] = i; });
  return inv;
}

// ---- a small ELF writer for synthetic and malformed inputs ---------------------

interface SynSec { name: string; type: number; data?: Uint8Array; size?: number; flags?: number; align?: number; link?: number; info?: number; entsize?: number; addr?: number }
interface Syn { bytes: Uint8Array; cls: 32 | 64; big: boolean; shoff: number; shdr(i: number): number; f: Record<string, number> }

/** Sections 1..n as given, then .shstrtab; section headers at the end. */
function buildElf(o: { cls: 32 | 64; big: boolean; type?: number; machine?: number; sections: SynSec[]; phdrs?: { offset: number; filesz: number }[] }): Syn {
  const is64 = o.cls === 64;
  const le = !o.big;
  const ehsize = is64 ? 64 : 52;
  const shentsize = is64 ? 64 : 40;
  const phentsize = is64 ? 56 : 32;
  const names = [0];
  let shstr = [0];
  const secs: SynSec[] = [...o.sections, { name: ".shstrtab", type: 3 }];
  for (const s of secs) {
    names.push(shstr.length);
    shstr = shstr.concat([...new TextEncoder().encode(s.name), 0]);
  }
  secs[secs.length - 1].data = new Uint8Array(shstr);
  let pos = ehsize + (o.phdrs?.length ?? 0) * phentsize;
  const offs: number[] = [0];
  for (const s of secs) {
    const a = s.align ?? 1;
    pos = Math.ceil(pos / a) * a;
    offs.push(pos);
    if (s.type !== 8) pos += s.data?.length ?? 0;
  }
  const shoff = Math.ceil(pos / 8) * 8;
  const total = shoff + (secs.length + 1) * shentsize;
  const b = new Uint8Array(total);
  const v = new DataView(b.buffer);
  b.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, o.big ? 2 : 1, 1]);
  v.setUint16(16, o.type ?? 1, le);
  v.setUint16(18, o.machine ?? 247, le);
  v.setUint32(20, 1, le);
  const word = (off: number, x: number) => (is64 ? v.setBigUint64(off, BigInt(x), le) : v.setUint32(off, x, le));
  word(is64 ? 32 : 28, o.phdrs?.length ? ehsize : 0);
  word(is64 ? 40 : 32, shoff);
  v.setUint16(is64 ? 52 : 40, ehsize, le);
  v.setUint16(is64 ? 54 : 42, o.phdrs?.length ? phentsize : 0, le);
  v.setUint16(is64 ? 56 : 44, o.phdrs?.length ?? 0, le);
  v.setUint16(is64 ? 58 : 46, shentsize, le);
  v.setUint16(is64 ? 60 : 48, secs.length + 1, le);
  v.setUint16(is64 ? 62 : 50, secs.length, le);
  (o.phdrs ?? []).forEach((p, k) => {
    const h = ehsize + k * phentsize;
    v.setUint32(h, 1, le); // PT_LOAD
    word(h + (is64 ? 8 : 4), p.offset);
    word(h + (is64 ? 32 : 16), p.filesz);
    word(h + (is64 ? 40 : 20), p.filesz);
  });
  secs.forEach((s, k) => {
    const i = k + 1;
    if (s.data && s.type !== 8) b.set(s.data, offs[i]);
    const h = shoff + i * shentsize;
    v.setUint32(h, names[i], le);
    v.setUint32(h + 4, s.type, le);
    word(h + 8, s.flags ?? 0);
    word(h + (is64 ? 16 : 12), s.addr ?? 0);
    word(h + (is64 ? 24 : 16), offs[i]);
    word(h + (is64 ? 32 : 20), s.size ?? s.data?.length ?? 0);
    v.setUint32(h + (is64 ? 40 : 24), s.link ?? 0, le);
    v.setUint32(h + (is64 ? 44 : 28), s.info ?? 0, le);
    word(h + (is64 ? 48 : 32), s.align ?? 1);
    word(h + (is64 ? 56 : 36), s.entsize ?? 0);
  });
  const shdr = (i: number) => shoff + i * shentsize;
  const f = {
    shoff: is64 ? 40 : 32, shentsize: is64 ? 58 : 46, shnum: is64 ? 60 : 48, shstrndx: is64 ? 62 : 50,
    name: 0, type: 4, offset: is64 ? 24 : 16, size: is64 ? 32 : 20, link: is64 ? 40 : 24,
  };
  return { bytes: b, cls: o.cls, big: o.big, shoff, shdr, f };
}

function patch(bytes: Uint8Array, fn: (v: DataView) => void): Uint8Array {
  const c = bytes.slice();
  fn(new DataView(c.buffer));
  return c;
}

/** A valid .BTF.ext: one func_info record, one line_info record, no CO-RE relocations. */
function btfExt(big: boolean, funcNumInfo = 1): Uint8Array {
  const b = new Uint8Array(32 + 20 + 28);
  const v = new DataView(b.buffer);
  const le = !big;
  v.setUint16(0, 0xeb9f, le);
  b[2] = 1;
  v.setUint32(4, 32, le);
  v.setUint32(8, 0, le); v.setUint32(12, 20, le); // func_info
  v.setUint32(16, 20, le); v.setUint32(20, 28, le); // line_info
  v.setUint32(24, 48, le); v.setUint32(28, 0, le); // core_relo
  v.setUint32(32, 8, le); v.setUint32(36, 1, le); v.setUint32(40, funcNumInfo, le); v.setUint32(44, 0, le); v.setUint32(48, 1, le);
  v.setUint32(52, 16, le); v.setUint32(56, 1, le); v.setUint32(60, 1, le);
  return b;
}

// A small standalone BTF (the distilled base of tcp_bbr) in both byte orders.
let smallLE: Uint8Array;
let smallBE: Uint8Array;
beforeAll(() => {
  smallLE = fixture("golden/distill/k61-50/tcp_bbr.base.btf.gz");
  const b = Btf.parse(smallLE);
  smallBE = b.toBytes({ endian: "big" });
  b.free();
});

function synBtfElf(cls: 32 | 64, big: boolean, extra: SynSec[] = [], btf?: Uint8Array): Syn {
  return buildElf({
    cls, big,
    sections: [
      { name: ".text", type: 1, flags: 6, data: new Uint8Array(16).fill(0x90), align: 16 },
      { name: ".BTF", type: 1, data: btf ?? (big ? smallBE : smallLE) },
      ...extra,
    ],
  });
}

// ---- fixtures: the two vendored modules ---------------------------------------

const KOS = ["tcp_bbr", "ebt_802_3"];

describe("reading BTF from module ELF files (fixtures)", () => {
  it("finds .BTF, .BTF_ids, the symbol table and the signature", () => {
    const ko = fixture("k61-50/ko/tcp_bbr.ko.gz");
    const secs = elfBtfSections(ko);
    expect([secs.class, secs.endian, secs.type, secs.machine]).toEqual([64, "little", 1, 62]);
    expect(secs.btfIds).toBeDefined();
    expect(secs.btfExt).toBeUndefined();
    expect(secs.btfBase).toBeUndefined();
    const layout = readElf(ko);
    expect(layout.sections[secs.btf.index].name).toBe(".BTF");
    expect(layout.sections[secs.symtab!.index].type).toBe(2);
    expect(layout.signature).toBeDefined();
    // The ELF data ends where the signature begins: every section lies below it.
    for (const s of layout.sections) if (s.type !== 8) expect(s.offset + s.size).toBeLessThanOrEqual(layout.signature!.offset);
    const btf = ko.subarray(secs.btf.offset, secs.btf.offset + secs.btf.size);
    expect(equalBytes(btf, fixture("k61-50/modules/tcp_bbr.btf.gz"))).toBe(true);
  });

  it("loads each module's .BTF split on vmlinux, with source info", () => {
    const base = Btf.parse(fixture("k61-50/vmlinux.btf.gz"));
    for (const m of KOS) {
      const ko = fixture(`k61-50/ko/${m}.ko.gz`);
      const mod = loadBtfSync(ko, { base });
      expect(mod.source?.container).toBe("elf");
      expect(mod.source?.sections?.[0]).toBe(".BTF");
      expect(mod.source?.elf).toEqual({ class: 64, endian: "little", type: 1, machine: 62 });
      expect(mod.startId).toBe(base.typeCount);
      const secs = elfBtfSections(ko);
      expect(equalBytes(mod.toBytes(), ko.subarray(secs.btf.offset, secs.btf.offset + secs.btf.size)), m).toBe(true);
      mod.free();
    }
    base.free();
  });

  it("errors inside .BTF carry file offsets", () => {
    const ko = fixture("k61-50/ko/tcp_bbr.ko.gz");
    const secs = elfBtfSections(ko);
    // Without its base the split's string section does not start with NUL.
    const err = expectCode(() => btfFromElf(ko, {}), "NO_BASE");
    expect(err.offset).toBeGreaterThan(secs.btf.offset);
    expect(err.offset).toBeLessThan(secs.btf.offset + secs.btf.size);
  });

  it("btfkit info X.ko --base vmlinux shows the ELF sections", () => {
    const r = cli(["info", fixturePath("k61-50/ko/tcp_bbr.ko.gz"), "--base", fixturePath("k61-50/vmlinux.btf.gz")]);
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout.toString();
    expect(out).toContain("container:   elf (sections: .BTF, .BTF_ids), ELF64 little-endian");
    const j = cli(["info", fixturePath("k61-50/ko/ebt_802_3.ko.gz"), "--base", fixturePath("k61-50/vmlinux.btf.gz"), "--json"]);
    expect(j.code, j.stderr).toBe(0);
    const info = JSON.parse(j.stdout.toString());
    expect(info.sections).toEqual([".BTF"]);
    expect(info.elf).toEqual({ class: 64, endian: "little", type: 1, machine: 62 });
  });
});

// ---- writing -----------------------------------------------------------------------

function checkReplaceRoundTrip(ko: Uint8Array, what: string, newBase: Uint8Array): void {
  const before = readElf(ko);
  const btf = sectionBytes(ko, before, ".BTF");
  const r = replaceElfSections(ko, { ".BTF": btf, ".BTF.base": newBase });
  expect(r.droppedSignature).toBe(before.signature !== undefined);
  const after = readElf(r.bytes);
  expect(after.signature).toBeUndefined();
  expect(after.sections.length).toBe(before.sections.length + 1);
  const added = after.sections[after.sections.length - 1];
  expect([added.name, added.type, added.flags, added.align, added.link, added.info]).toEqual([".BTF.base", 1, 0, 1, 0, 0]);
  checkOtherSectionsUnchanged(ko, r.bytes, [".BTF"]);
  const secs = elfBtfSections(r.bytes);
  expect(equalBytes(r.bytes.subarray(secs.btf.offset, secs.btf.offset + secs.btf.size), btf), what).toBe(true);
  expect(equalBytes(r.bytes.subarray(secs.btfBase!.offset, secs.btfBase!.offset + secs.btfBase!.size), newBase), what).toBe(true);
  externalToolsAccept(r.bytes, what);
  // Symbols and relocations read the same (section indices are kept).
  expect(readelfView(r.bytes, ["-s", "-r"])).toBe(readelfView(ko.subarray(0, before.signature?.offset ?? ko.length), ["-s", "-r"]));
}

describe("writing module ELF files (fixtures)", () => {
  it("replaces .BTF with itself and adds .BTF.base: valid ELF, other sections unchanged, signature dropped", () => {
    for (const m of KOS) checkReplaceRoundTrip(fixture(`k61-50/ko/${m}.ko.gz`), m, smallLE);
  });

  it("a distilled module reads back as split on its .BTF.base", () => {
    const ko = fixture("k61-50/ko/tcp_bbr.ko.gz");
    const split = fixture("golden/distill/k61-50/tcp_bbr.split.btf.gz");
    const dbase = fixture("golden/distill/k61-50/tcp_bbr.base.btf.gz");
    const r = replaceElfSections(ko, { ".BTF": split, ".BTF.base": dbase });
    externalToolsAccept(r.bytes, "distilled tcp_bbr");
    const b = btfFromElf(r.bytes, {});
    expect(b.source?.sections).toEqual([".BTF", ".BTF.base", ".BTF_ids"]);
    expect(equalBytes(b.toBytes(), split)).toBe(true);
    expect(equalBytes(b.source!.distilledBase!.toBytes(), dbase)).toBe(true);
    expect(b.startId).toBe(b.source!.distilledBase!.typeCount);
    // Through loadBtf too.
    const l = loadBtfSync(r.bytes);
    expect(l.source?.distilledBase).toBeDefined();
    expect(l.source?.layers).toEqual([]);
    // With a real base as well, it is relocated onto it (libbpf's btf__parse_split).
    const vmlinux = Btf.parse(fixture("k61-50/vmlinux.btf.gz"));
    const rel = btfFromElf(r.bytes, { base: vmlinux });
    expect(rel.source?.relocated).toBe(true);
    expect(rel.startId).toBe(vmlinux.typeCount);
    rel.free();
    vmlinux.free();
    // Writing the edited file again replaces .BTF.base in place of adding another.
    const again = replaceElfSections(r.bytes, { ".BTF.base": dbase });
    expect(again.droppedSignature).toBe(false);
    expect(readElf(again.bytes).sections.length).toBe(readElf(r.bytes).sections.length);
    checkOtherSectionsUnchanged(r.bytes, again.bytes, [".BTF.base"]);
  });

  it("refuses edits that would break the file", () => {
    const ko = fixture("k61-50/ko/tcp_bbr.ko.gz");
    expectCode(() => replaceElfSections(ko, { ".shstrtab": new Uint8Array(4) }), "USAGE");
    expectCode(() => replaceElfSections(ko, { ".bss": new Uint8Array(4) }), "USAGE");
    expectCode(() => replaceElfSections(ko, { "": new Uint8Array(4) }), "USAGE");
    // A signature trailer whose module_signature is not one the kernel accepts.
    const layout = readElf(ko);
    const bad = patch(ko, (v) => v.setUint8(ko.length - 28 - 12 + 2, 1)); // id_type
    expectCode(() => replaceElfSections(bad, { ".BTF.base": smallLE }), "BAD_ELF", ko.length - 28 - 12 + 2);
    const tooLong = patch(ko, (v) => v.setUint32(ko.length - 28 - 4, 0x7fffffff, false));
    expectCode(() => replaceElfSections(tooLong, { ".BTF.base": smallLE }), "BAD_ELF");
    expect(layout.signature!.length).toBe(ko.length - layout.signature!.offset);
  });

  it("moves allocated sections only in files without program headers", () => {
    const text = new Uint8Array(64).fill(0xcc);
    const exec = buildElf({
      cls: 64, big: false, type: 2, machine: 62,
      sections: [
        { name: ".text", type: 1, flags: 6, data: text, align: 16 },
        { name: ".BTF", type: 1, flags: 2, data: smallLE },
      ],
      phdrs: [{ offset: 0, filesz: 64 + 56 + 64 }],
    });
    expect(btfFromElf(exec.bytes, {}).typeCount).toBeGreaterThan(1);
    expectCode(() => replaceElfSections(exec.bytes, { ".BTF": smallLE }), "UNSUPPORTED");
    const r = replaceElfSections(exec.bytes, { ".BTF.base": smallLE });
    externalToolsAccept(r.bytes, "ET_EXEC with a new section");
    checkOtherSectionsUnchanged(exec.bytes, r.bytes, []);
  });
});

// ---- .BTF_ids --------------------------------------------------------------------------

describe(".BTF_ids remap", () => {
  it("shifts every id of tcp_bbr's kfunc set and the inverse map restores the file", () => {
    const ko = fixture("k61-50/ko/tcp_bbr.ko.gz");
    const layout = readElf(ko);
    const ids = layout.sections.find((s) => s.name === ".BTF_ids")!;
    const cnt = u32(ko, ids.offset);
    expect(cnt).toBe(8);
    const shift = 1234;
    const map = shiftMap(200_000, shift);
    const r = remapBtfIds(ko, map);
    expect(r.remapped).toBe(cnt);
    for (let i = 0; i < ko.length; i++) {
      const rel = i - ids.offset;
      const isId = rel >= 8 && rel < 8 + cnt * 8 && (rel - 8) % 8 === 0;
      if (isId) {
        expect(u32(r.bytes, i)).toBe(u32(ko, i) + shift);
        i += 3;
      } else if (r.bytes[i] !== ko[i]) {
        throw new Error(`byte ${i} changed outside the id slots`);
      }
    }
    const back = remapBtfIds(r.bytes, inverse(map));
    expect(back.remapped).toBe(cnt);
    expect(equalBytes(back.bytes, ko)).toBe(true);
    // The remapped module, written with a new .BTF, is still valid ELF.
    const w = replaceElfSections(r.bytes, { ".BTF.base": smallLE });
    externalToolsAccept(w.bytes, "remapped tcp_bbr");
    expect(equalBytes(sectionBytes(w.bytes, readElf(w.bytes), ".BTF_ids"), r.bytes.subarray(ids.offset, ids.offset + ids.size))).toBe(true);
  });

  it("an id without a mapping names its symbol", () => {
    const ko = fixture("k61-50/ko/tcp_bbr.ko.gz");
    const ids = readElf(ko).sections.find((s) => s.name === ".BTF_ids")!;
    const first = u32(ko, ids.offset + 8);
    const map = shiftMap(200_000, 1);
    map[first] = 0;
    const err = expectCode(() => remapBtfIds(ko, map), "BAD_TYPE_ID");
    expect(err.typeId).toBe(first);
    expect(err.message).toMatch(/__BTF_ID__func__bbr_\w+/);
    expectCode(() => remapBtfIds(ko, new Uint32Array(10)), "BAD_TYPE_ID");
  });

  it("a module without .BTF_ids is left alone", () => {
    const ko = fixture("k61-50/ko/ebt_802_3.ko.gz");
    const r = remapBtfIds(ko, shiftMap(10, 1));
    expect(r.remapped).toBe(0);
    expect(equalBytes(r.bytes, ko)).toBe(true);
  });

  for (const [cls, big] of [[32, true], [64, true], [32, false]] as const) {
    it(`follows symbols, sets and byte order in an ELF${cls} ${big ? "big" : "little"}-endian object`, () => {
      const le = !big;
      // set8 {cnt 2, flags 0, (10, 1), (20, 0)}, a lone struct id 30, set {cnt 2, 5, 0 (unused)}.
      const data = new Uint8Array(40);
      const dv = new DataView(data.buffer);
      [2, 0, 10, 1, 20, 0, 30, 2, 5, 0].forEach((x, k) => dv.setUint32(k * 4, x, le));
      const names = ["", "__BTF_ID__set8__s8", "__BTF_ID__func__a__1", "__BTF_ID__func__b__2", "__BTF_ID__struct__x__3", "__BTF_ID__set__s", "other", "__BTF_ID__func__c__4"];
      const values = [0, 0, 8, 16, 24, 28, 0, 32];
      const strtab: number[] = [0];
      const nameOffs = names.map((n) => { if (!n) return 0; const o = strtab.length; strtab.push(...new TextEncoder().encode(n), 0); return o; });
      const symSize = cls === 64 ? 24 : 16;
      const sym = new Uint8Array(symSize * names.length);
      const sv = new DataView(sym.buffer);
      names.forEach((_, k) => {
        if (k === 0) return;
        const p = k * symSize;
        const shndx = k === 6 ? 1 : 2; // "other" lives in .text
        sv.setUint32(p, nameOffs[k], le);
        if (cls === 64) { sv.setUint16(p + 6, shndx, le); sv.setBigUint64(p + 8, BigInt(values[k]), le); }
        else { sv.setUint32(p + 4, values[k], le); sv.setUint16(p + 14, shndx, le); }
      });
      const e = buildElf({
        cls, big,
        sections: [
          { name: ".text", type: 1, flags: 6, data: new Uint8Array(8), align: 4 },
          { name: ".BTF_ids", type: 1, flags: 2, data, align: 4 },
          { name: ".symtab", type: 2, data: sym, link: 4, info: names.length, entsize: symSize, align: 4 },
          { name: ".strtab", type: 3, data: new Uint8Array(strtab) },
          { name: ".BTF", type: 1, data: big ? smallBE : smallLE },
        ],
      });
      externalToolsAccept(e.bytes, `synthetic ELF${cls}`);
      const off = readElf(e.bytes).sections[2].offset;
      const get = (b: Uint8Array) => Array.from({ length: 10 }, (_, k) => u32(b, off + k * 4, big));
      const r = remapBtfIds(e.bytes, shiftMap(100, 100));
      expect(r.remapped).toBe(4);
      // Headers and set8 flags stay; the unused id stays 0 and sorts first.
      expect(get(r.bytes)).toEqual([2, 0, 110, 1, 120, 0, 130, 2, 0, 105]);
      // A map that reverses the set8 order: the pairs are sorted again, flags following their ids.
      const swap = shiftMap(100, 0);
      swap[10] = 50; swap[20] = 40;
      expect(get(remapBtfIds(e.bytes, swap).bytes)).toEqual([2, 0, 40, 0, 50, 1, 30, 2, 0, 5]);
      // The writer keeps the byte order too.
      const w = replaceElfSections(r.bytes, { ".BTF": big ? smallBE : smallLE, ".BTF.base": big ? smallBE : smallLE });
      externalToolsAccept(w.bytes, `synthetic ELF${cls} rewritten`);
      expect(get(w.bytes)).toEqual(get(r.bytes));
      const b = btfFromElf(w.bytes, {});
      expect(b.source?.elf).toEqual({ class: cls, endian: big ? "big" : "little", type: 1, machine: 247 });
      // The pointer size follows the ELF class, as libbpf's btf_parse_elf sets it.
      expect(b.pointerSize).toBe(cls === 64 ? 8 : 4);
      expect(b.endian).toBe(big ? "big" : "little");
    });
  }
});

// ---- synthetic ELF files: every class and byte order, .BTF.ext, malformed -------------

describe("synthetic ELF files", () => {
  for (const cls of [32, 64] as const) {
    for (const big of [false, true]) {
      it(`reads ELF${cls} ${big ? "big" : "little"}-endian with .BTF.ext`, () => {
        const e = synBtfElf(cls, big, [{ name: ".BTF.ext", type: 1, data: btfExt(big), align: 4 }]);
        externalToolsAccept(e.bytes, `ELF${cls}`);
        const secs = elfBtfSections(e.bytes);
        expect([secs.class, secs.endian]).toEqual([cls, big ? "big" : "little"]);
        expect(secs.btfExt).toMatchObject({ hdrLen: 32, funcInfo: { off: 0, len: 20, recordSize: 8 }, lineInfo: { off: 20, len: 28, recordSize: 16 }, coreRelo: { off: 48, len: 0, recordSize: 0 } });
        const b = btfFromElf(e.bytes, {});
        expect(b.source?.sections).toEqual([".BTF", ".BTF.ext"]);
        expect(equalBytes(b.toBytes({ endian: b.endian }), big ? smallBE : smallLE)).toBe(true);
      });
    }
  }

  it("accepts extended section numbering", () => {
    const e = synBtfElf(64, false);
    const n = readElf(e.bytes).sections.length;
    const x = patch(e.bytes, (v) => {
      v.setUint16(e.f.shnum, 0, true);
      v.setUint16(e.f.shstrndx, 0xffff, true);
      v.setBigUint64(e.shdr(0) + e.f.size, BigInt(n), true);
      v.setUint32(e.shdr(0) + e.f.link, n - 1, true);
    });
    const l = readElf(x);
    expect(l.sections.length).toBe(n);
    expect(l.shstrndx).toBe(n - 1);
    expect(btfFromElf(x, {}).typeCount).toBeGreaterThan(1);
    externalToolsAccept(x, "extended numbering");
    const r = replaceElfSections(x, { ".BTF.base": smallLE });
    expect(readElf(r.bytes).sections.length).toBe(n + 1);
  });

  // Each malformed file must give its error code with no trap (a trap is INTERNAL).
  const cases: [string, () => { bytes: Uint8Array; code: string; offset?: number }][] = [
    ["truncated header", () => ({ bytes: synBtfElf(64, false).bytes.subarray(0, 40), code: "BAD_ELF", offset: 40 })],
    ["truncated identification", () => ({ bytes: synBtfElf(64, false).bytes.subarray(0, 10), code: "BAD_ELF" })],
    ["bad class", () => { const e = synBtfElf(64, false); return { bytes: patch(e.bytes, (v) => v.setUint8(4, 3)), code: "BAD_ELF", offset: 4 }; }],
    ["e_shoff past the end", () => { const e = synBtfElf(64, false); return { bytes: patch(e.bytes, (v) => v.setBigUint64(e.f.shoff, 1n << 40n, true)), code: "BAD_ELF", offset: e.f.shoff }; }],
    ["section table past the end", () => { const e = synBtfElf(32, true); return { bytes: patch(e.bytes, (v) => v.setUint16(e.f.shnum, 200, false)), code: "BAD_ELF", offset: e.f.shnum }; }],
    ["absurd extended e_shnum", () => { const e = synBtfElf(64, false); return { bytes: patch(e.bytes, (v) => { v.setUint16(e.f.shnum, 0, true); v.setBigUint64(e.shdr(0) + e.f.size, 0xffffffffffffn, true); }), code: "BAD_ELF", offset: e.shdr(0) + e.f.size }; }],
    ["wrong e_shentsize", () => { const e = synBtfElf(64, false); return { bytes: patch(e.bytes, (v) => v.setUint16(e.f.shentsize, 32, true)), code: "BAD_ELF", offset: e.f.shentsize }; }],
    ["section past the end", () => { const e = synBtfElf(64, false); return { bytes: patch(e.bytes, (v) => v.setBigUint64(e.shdr(2) + e.f.size, 0xfffffffffffff000n, true)), code: "BAD_ELF", offset: e.shdr(2) + e.f.size }; }],
    ["section offset past the end", () => { const e = synBtfElf(32, false); return { bytes: patch(e.bytes, (v) => v.setUint32(e.shdr(2) + e.f.offset, 0xffffff00, true)), code: "BAD_ELF", offset: e.shdr(2) + e.f.offset }; }],
    ["shstrndx out of range", () => { const e = synBtfElf(64, false); return { bytes: patch(e.bytes, (v) => v.setUint16(e.f.shstrndx, 77, true)), code: "BAD_ELF", offset: e.f.shstrndx }; }],
    ["shstrndx not a string table", () => { const e = synBtfElf(64, false); return { bytes: patch(e.bytes, (v) => v.setUint16(e.f.shstrndx, 1, true)), code: "BAD_ELF", offset: e.shdr(1) + e.f.type }; }],
    ["name offset out of .shstrtab", () => { const e = synBtfElf(64, true); return { bytes: patch(e.bytes, (v) => v.setUint32(e.shdr(2) + e.f.name, 5000, false)), code: "BAD_ELF", offset: e.shdr(2) + e.f.name }; }],
    [".BTF of wrong type", () => { const e = synBtfElf(64, false); return { bytes: patch(e.bytes, (v) => v.setUint32(e.shdr(2) + e.f.type, 8, true)), code: "BAD_ELF", offset: e.shdr(2) + e.f.type }; }],
    ["big-endian BTF in a little-endian ELF", () => { const e = synBtfElf(64, false, [], smallBE); return { bytes: e.bytes, code: "BAD_ELF", offset: readElf(e.bytes).sections[2].offset }; }],
    ["little-endian BTF in a big-endian ELF", () => ({ bytes: synBtfElf(32, true, [], smallLE).bytes, code: "BAD_ELF" })],
    ["no .BTF", () => ({ bytes: buildElf({ cls: 64, big: false, sections: [{ name: ".text", type: 1, data: new Uint8Array(4) }] }).bytes, code: "NO_BTF" })],
    ["no section table", () => { const e = synBtfElf(64, false); return { bytes: patch(e.bytes, (v) => { v.setBigUint64(e.f.shoff, 0n, true); v.setUint16(e.f.shnum, 0, true); }), code: "NO_BTF" }; }],
    [".BTF.ext with an empty sub-section", () => ({ bytes: synBtfElf(64, false, [{ name: ".BTF.ext", type: 1, data: btfExt(false, 0) }]).bytes, code: "BAD_BTF_EXT" })],
    [".BTF.ext lengths that do not add up", () => { const x = btfExt(true); new DataView(x.buffer).setUint32(20, 32, false); return { bytes: synBtfElf(32, true, [{ name: ".BTF.ext", type: 1, data: x }]).bytes, code: "BAD_BTF_EXT" }; }],
    [".BTF.ext in the other byte order", () => ({ bytes: synBtfElf(64, false, [{ name: ".BTF.ext", type: 1, data: btfExt(true) }]).bytes, code: "BAD_ELF" })],
    ["bad BTF magic inside a good ELF", () => ({ bytes: synBtfElf(64, false, [], new Uint8Array(32)).bytes, code: "BAD_MAGIC" })],
  ];
  for (const [name, make] of cases) {
    it(`malformed: ${name}`, () => {
      const { bytes, code, offset } = make();
      expectCode(() => btfFromElf(bytes, {}), code, offset);
      expectCode(() => loadBtfSync(bytes), code);
    });
  }

  it("survives random corruption of headers and section tables without trapping", () => {
    const inputs = [fixture("k61-50/ko/tcp_bbr.ko.gz"), synBtfElf(32, true, [{ name: ".BTF.ext", type: 1, data: btfExt(true) }]).bytes];
    let seed = 12345;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    let ok = 0, failed = 0;
    for (const input of inputs) {
      const layout = readElf(input);
      const hot = [0, 64, ...layout.sections.map((s) => s.offset)];
      for (let iter = 0; iter < 300; iter++) {
        const c = input.slice();
        const n = 1 + Math.floor(rnd() * 4);
        for (let k = 0; k < n; k++) {
          // Hit the header, the section header table region or a section start.
          const where = rnd() < 0.5 ? Math.floor(rnd() * 64) : rnd() < 0.5 ? hot[Math.floor(rnd() * hot.length)] + Math.floor(rnd() * 16) : Math.floor(rnd() * c.length);
          if (where < c.length) c[where] = Math.floor(rnd() * 256);
        }
        for (const op of [() => readElf(c), () => btfFromElf(c, {}), () => remapBtfIds(c, shiftMap(300_000, 3)), () => replaceElfSections(c, { ".BTF.base": smallLE })]) {
          try { op(); ok++; } catch (e) {
            expect(e).toBeInstanceOf(BtfError);
            expect((e as BtfError).code).not.toBe("INTERNAL");
            failed++;
          }
        }
      }
    }
    console.log(`ELF corruption: ${ok} operations succeeded, ${failed} failed with typed errors, none trapped`);
  });
});

// ---- the corpus ------------------------------------------------------------------------

describe.runIf(HAS_CORPUS)("corpus modules (k61-50/ko)", () => {
  it("reads every .ko's .BTF as modules/<m>.btf, writes it back valid, and shows it in btfkit info", () => {
    const dir = join(CORPUS, "k61-50/ko");
    const vmlinuxPath = join(CORPUS, "k61-50/vmlinux.btf.gz");
    const base = Btf.parse(readMaybeGz(vmlinuxPath));
    let n = 0;
    for (const f of readdirSync(dir).filter((x) => x.endsWith(".ko")).sort()) {
      const m = f.slice(0, -3);
      const ko = new Uint8Array(readFileSync(join(dir, f)));
      const expected = new Uint8Array(readFileSync(join(CORPUS, "k61-50/modules", m + ".btf")));
      const secs = elfBtfSections(ko);
      expect(equalBytes(ko.subarray(secs.btf.offset, secs.btf.offset + secs.btf.size), expected), m).toBe(true);
      const mod = loadBtfSync(ko, { base });
      expect(equalBytes(mod.toBytes(), expected), m).toBe(true);
      mod.free();
      checkReplaceRoundTrip(ko, m, smallLE);
      if (secs.btfIds) {
        const r = remapBtfIds(ko, shiftMap(300_000, 77));
        expect(r.remapped, m).toBeGreaterThan(0);
        expect(equalBytes(remapBtfIds(r.bytes, inverse(shiftMap(300_000, 77))).bytes, ko), m).toBe(true);
      }
      const info = cli(["info", join(dir, f), "--base", vmlinuxPath]);
      expect(info.code, info.stderr).toBe(0);
      expect(info.stdout.toString()).toContain(`(sections: .BTF${secs.btfIds ? ", .BTF_ids" : ""}), ELF64 little-endian`);
      n++;
    }
    base.free();
    console.log(`corpus .ko files: ${n} checked (read, replace + readelf${HAVE_READELF ? "" : " [readelf absent]"}, remap, btfkit info)`);
    expect(n).toBe(8);
  });
});

// Leave no temporary files behind.
afterAll(() => { if (existsSync(TMP)) rmSync(TMP, { recursive: true, force: true }); });
