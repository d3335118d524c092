// Malformed input: every case is built from a valid small BTF (assembled
// below, word by word, in either byte order) and must be refused with the
// expected BtfError code, byte offset and type id, never with a trap
// (INTERNAL). Then a property test mutates the valid blob at random, the
// gzip layer is attacked (bomb, truncation), the CLI's error line and exit
// codes are checked, and, when ../shared/corpus exists, every corpus blob
// must pass the kernel-level checks and survive corruption without a trap.
import { describe, it, expect, beforeAll } from "vitest";
import { gzipSync } from "node:zlib";
import { mkdtempSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { init, Btf, BtfError, loadBtf } from "../src/index.js";
import { ERROR_CODE_NAMES } from "../src/generated/codes.js";
import { fixture, fixturePath, cli, HAS_CORPUS, CORPUS, corpusModules, readMaybeGz } from "./helpers.js";

beforeAll(async () => { await init(); });

// ---- a little assembler for BTF blobs -------------------------------------

import { KIND as K } from "../src/generated/kinds.js";
const info = (kind: number, vlen = 0, kflag = false) => ((kflag ? 0x80000000 : 0) | (kind << 24) | vlen) >>> 0;

/** A string section under construction; offsets start at `start` (split BTF: the base's end). */
class Strings {
  private bytes: number[];
  private offs = new Map<string, number>();
  constructor(readonly start = 0, leadingNul = true) { this.bytes = leadingNul ? [0] : []; }
  /** Offset of `s`, added on first use. */
  o(s: string): number {
    let off = this.offs.get(s);
    if (off === undefined) {
      off = this.start + this.bytes.length;
      this.offs.set(s, off);
      for (const c of Buffer.from(s, "utf8")) this.bytes.push(c);
      this.bytes.push(0);
    }
    return off;
  }
  section(): Uint8Array { return Uint8Array.from(this.bytes); }
}

interface Spec {
  types: number[][];
  strs: Uint8Array;
  be?: boolean;
  hdrLen?: number;
  /** Layout section (4-byte entries per kind), placed between types and strings. */
  layout?: Uint8Array;
}
interface Blob {
  bytes: Uint8Array;
  be: boolean;
  hdrLen: number;
  typeLen: number;
  strOff: number;
  strLen: number;
  /** Byte offset of each record in the blob, by position (id = startId + position). */
  rec: number[];
}

function assemble(spec: Spec): Blob {
  const be = !!spec.be;
  const hdrLen = spec.hdrLen ?? 24;
  const words = spec.types.flat();
  const typeLen = words.length * 4;
  const layoutLen = spec.layout?.length ?? 0;
  const strOff = typeLen + layoutLen;
  const strLen = spec.strs.length;
  const bytes = new Uint8Array(hdrLen + strOff + strLen);
  const dv = new DataView(bytes.buffer);
  const le = !be;
  dv.setUint16(0, 0xeb9f, le);
  bytes[2] = 1;
  bytes[3] = 0;
  dv.setUint32(4, hdrLen, le);
  dv.setUint32(8, 0, le);
  dv.setUint32(12, typeLen, le);
  dv.setUint32(16, strOff, le);
  dv.setUint32(20, strLen, le);
  if (hdrLen >= 32) { dv.setUint32(24, layoutLen ? typeLen : 0, le); dv.setUint32(28, layoutLen, le); }
  const rec: number[] = [];
  let o = hdrLen;
  for (const t of spec.types) {
    rec.push(o);
    for (const w of t) { dv.setUint32(o, w >>> 0, le); o += 4; }
  }
  if (spec.layout) {
    // Entries are info_sz u8, elem_sz u8, flags u16 (in the blob's order).
    for (let i = 0; i < layoutLen; i += 4) {
      bytes[o + i] = spec.layout[i];
      bytes[o + i + 1] = spec.layout[i + 1];
      dv.setUint16(o + i + 2, spec.layout[i + 2] | (spec.layout[i + 3] << 8), le);
    }
  }
  bytes.set(spec.strs, hdrLen + strOff);
  return { bytes, be, hdrLen, typeLen, strOff, strLen, rec };
}

function setU32(b: Blob, off: number, v: number): void {
  new DataView(b.bytes.buffer, b.bytes.byteOffset).setUint32(off, v >>> 0, !b.be);
}
function getU32(b: Blob, off: number): number {
  return new DataView(b.bytes.buffer, b.bytes.byteOffset).getUint32(off, !b.be);
}

/**
 * The valid base every case starts from: each kind once, valid at the
 * kernel level too. Returns the spec pieces so cases can change a record
 * before assembling (e.g. to add types).
 */
function baseSpec(extra: (s: Strings) => number[][] = () => []) {
  const s = new Strings();
  const types: number[][] = [
    /* 1 */ [s.o("int"), info(K.INT), 4, (1 << 24) | 32],
    /* 2 */ [0, info(K.PTR), 1],
    /* 3 */ [s.o("s"), info(K.STRUCT, 2), 16, s.o("a"), 1, 0, s.o("b"), 2, 64],
    /* 4 */ [s.o("t"), info(K.TYPEDEF), 3],
    /* 5 */ [0, info(K.CONST), 4],
    /* 6 */ [0, info(K.FUNC_PROTO, 1), 1, s.o("x"), 1],
    /* 7 */ [s.o("f"), info(K.FUNC, 1), 6],
    /* 8 */ [s.o("e"), info(K.ENUM, 1), 4, s.o("E0"), 0],
    /* 9 */ [0, info(K.ARRAY), 0, 1, 1, 4],
    /* 10 */ [s.o("v"), info(K.VAR), 1, 1],
    /* 11 */ [s.o("w"), info(K.VAR), 1, 1],
    /* 12 */ [s.o(".data"), info(K.DATASEC, 2), 8, 10, 0, 4, 11, 4, 4],
    /* 13 */ [s.o("double"), info(K.FLOAT), 8],
    /* 14 */ [s.o("fw"), info(K.FWD), 0],
    /* 15 */ [0, info(K.VOLATILE), 1],
    /* 16 */ [s.o("tag"), info(K.TYPE_TAG), 1],
    /* 17 */ [0, info(K.PTR), 16],
    /* 18 */ [s.o("dt"), info(K.DECL_TAG), 3, 0xffffffff],
    /* 19 */ [s.o("e64"), info(K.ENUM64, 1), 8, s.o("E1"), 1, 0],
    /* 20 */ [s.o("u"), info(K.UNION, 1), 4, s.o("m"), 1, 0],
    /* 21 */ [0, info(K.RESTRICT), 2],
  ];
  types.push(...extra(s));
  return { s, types };
}
const LAST_BASE_ID = 21;

function base(be = false, extra?: (s: Strings) => number[][]): Blob {
  const { s, types } = baseSpec(extra);
  return assemble({ types, strs: s.section(), be });
}
/** Record offset of type `id` in a base blob. */
const at = (b: Blob, id: number) => b.rec[id - 1];

/** A valid split BTF on `base()`: a struct of the base's int and pointer. */
function splitOn(baseBlob: Blob, be = false, kernelBad = false): Blob {
  const s = new Strings(baseBlob.strLen, false);
  const types = [
    /* 22 */ [s.o("ms"), info(K.STRUCT, 2), 16, s.o("mm"), 1, 0, s.o("mp"), 2, 64],
    /* 23 */ [kernelBad ? s.o("9lives") : s.o("mt"), info(K.TYPEDEF), 22],
  ];
  return assemble({ types, strs: s.section(), be });
}

// ---- expectations -----------------------------------------------------------

interface Expect { code: string; offset?: number; typeId?: number; message?: RegExp }

function expectError(fn: () => unknown, want: Expect): BtfError {
  let err: unknown;
  try {
    const r = fn();
    if (r instanceof Btf) r.free();
  } catch (e) {
    err = e;
  }
  expect(err, `expected ${want.code}`).toBeInstanceOf(BtfError);
  const e = err as BtfError;
  expect(e.code).not.toBe("INTERNAL");
  expect(Object.values(ERROR_CODE_NAMES)).toContain(e.code);
  expect({ code: e.code, offset: e.offset, typeId: e.typeId }).toEqual({ code: want.code, offset: want.offset, typeId: want.typeId });
  if (want.message) expect(e.message).toMatch(want.message);
  expect(e.message).not.toMatch(/\n/);
  return e;
}

async function expectErrorAsync(p: Promise<unknown>, want: Expect): Promise<BtfError> {
  let err: unknown;
  try {
    const r = await p;
    if (r instanceof Btf) r.free();
  } catch (e) {
    err = e;
  }
  expect(err, `expected ${want.code}`).toBeInstanceOf(BtfError);
  const e = err as BtfError;
  expect(e.code).toBe(want.code);
  if ("offset" in want) expect(e.offset).toBe(want.offset);
  return e;
}

/** Parse at libbpf level and at kernel level (both ways): the kernel-only cases pass the first. */
function expectKernelError(b: Blob, want: Expect, baseBtf?: Btf): void {
  const ok = Btf.parse(b.bytes.slice(), { base: baseBtf });
  try {
    expectError(() => ok.validateKernel(), want);
  } finally {
    ok.free();
  }
  expectError(() => Btf.parse(b.bytes.slice(), { base: baseBtf, validate: "kernel" }), want);
}

const parse = (b: Blob | Uint8Array, opts: { base?: Btf; validate?: "libbpf" | "kernel" } = {}) =>
  () => Btf.parse((b instanceof Uint8Array ? b : b.bytes).slice(), opts);

// ---- the valid starting point -------------------------------------------------

describe("the valid starting point", () => {
  for (const be of [false, true]) {
    it(`parses, validates at kernel level and dumps (${be ? "big" : "little"}-endian)`, () => {
      const b = base(be);
      const btf = Btf.parse(b.bytes.slice(), { validate: "kernel" });
      expect(btf.typeCount).toBe(LAST_BASE_ID + 1);
      expect(btf.endian).toBe(be ? "big" : "little");
      expect(btf.dumpRaw()).toContain("[12] DATASEC '.data' size=8 vlen=2");
      const mod = Btf.parse(splitOn(b, be).bytes, { base: btf, validate: "kernel" });
      expect(mod.type(23).name).toBe("mt");
      mod.free();
      btf.free();
    });
  }
});

// ---- header ---------------------------------------------------------------------

describe("header", () => {
  const fields: [string, number][] = [
    ["magic", 1], ["version", 2], ["flags", 3], ["hdr_len", 6],
    ["type_off", 10], ["type_len", 14], ["str_off", 18], ["str_len", 22],
  ];
  for (const [field, len] of fields) {
    it(`truncated inside ${field} (${len} bytes)`, () => {
      expectError(parse(base().bytes.subarray(0, len)), { code: "TRUNCATED", offset: len, message: new RegExp(`inside ${field}`) });
    });
  }
  it("truncated inside type_len, big-endian", () => {
    expectError(parse(base(true).bytes.subarray(0, 13)), { code: "TRUNCATED", offset: 13, message: /inside type_len/ });
  });
  it("a lone magic byte is truncated BTF through loadBtf too", async () => {
    await expectErrorAsync(loadBtf(Uint8Array.of(0x9f)), { code: "TRUNCATED", offset: 1 });
  });
  it("bad magic", () => {
    const b = base();
    b.bytes[0] = 0x12; b.bytes[1] = 0x34;
    expectError(parse(b), { code: "BAD_MAGIC", offset: 0 });
  });
  it("bad version", () => {
    const b = base();
    b.bytes[2] = 2;
    expectError(parse(b), { code: "BAD_VERSION", offset: 2 });
  });
  it("non-zero flags: libbpf accepts, the kernel refuses", () => {
    const b = base();
    b.bytes[3] = 1;
    Btf.parse(b.bytes.slice()).free();
    expectError(parse(b, { validate: "kernel" }), { code: "BAD_FLAGS", offset: 3 });
  });
  it("hdr_len below 24", () => {
    const b = base();
    setU32(b, 4, 20);
    expectError(parse(b), { code: "BAD_HEADER", offset: 4 });
  });
  it("hdr_len beyond the data", () => {
    const b = base();
    setU32(b, 4, b.bytes.length + 8);
    expectError(parse(b), { code: "TRUNCATED", offset: b.bytes.length });
  });
  it("non-zero reserved header bytes (hdr_len 28)", () => {
    const { s, types } = baseSpec();
    const b = assemble({ types, strs: s.section(), hdrLen: 28 });
    Btf.parse(b.bytes.slice()).free(); // zero: fine
    b.bytes[26] = 1;
    expectError(parse(b), { code: "BAD_HEADER", offset: 26 });
  });
  it("non-zero reserved header bytes, big-endian (hdr_len 40)", () => {
    const { s, types } = baseSpec();
    const b = assemble({ types, strs: s.section(), hdrLen: 40, be: true });
    b.bytes[37] = 7;
    expectError(parse(b), { code: "BAD_HEADER", offset: 37 });
  });
  it("type and string sections overlap", () => {
    const b = base();
    setU32(b, 16, 4);
    expectError(parse(b), { code: "SECTION_OVERLAP", offset: 16 });
  });
  it("strings before types", () => {
    // Both non-empty and not overlapping, but the types come second: libbpf
    // requires type_off + type_len <= str_off.
    const b = base();
    setU32(b, 8, b.strLen + ((4 - (b.strLen % 4)) % 4));
    setU32(b, 12, 12);
    setU32(b, 16, 0);
    expectError(parse(b), { code: "SECTION_OVERLAP", offset: 16 });
  });
  it("type section runs past the end", () => {
    const b = base();
    setU32(b, 12, b.typeLen + 100);
    expectError(parse(b), { code: "BAD_SECTION", offset: 12 });
  });
  it("string section runs past the end", () => {
    const b = base();
    setU32(b, 20, b.strLen + 1);
    expectError(parse(b), { code: "BAD_SECTION", offset: 20 });
  });
  it("misaligned type_off", () => {
    const b = base();
    setU32(b, 8, 2);
    expectError(parse(b), { code: "BAD_ALIGN", offset: 8 });
  });
  it("absurd type_len (near 4 GiB)", () => {
    const b = base();
    setU32(b, 12, 0xfffffff0);
    expectError(parse(b), { code: "BAD_SECTION", offset: 12 });
  });
  it("absurd str_len (near 4 GiB), big-endian", () => {
    const b = base(true);
    setU32(b, 20, 0xfffffff0);
    expectError(parse(b), { code: "BAD_SECTION", offset: 20 });
  });
  it("absurd type_off (near 4 GiB)", () => {
    const b = base();
    setU32(b, 8, 0xfffffffc);
    expectError(parse(b), { code: "BAD_SECTION", offset: 12 });
  });
  it("the kernel refuses gaps between sections", () => {
    const b = base();
    setU32(b, 12, b.typeLen - 12); // drop the last record: a 12-byte gap before the strings
    Btf.parse(b.bytes.slice()).free();
    expectError(parse(b, { validate: "kernel" }), { code: "BAD_SECTION", offset: 24 + b.typeLen - 12 });
  });
});

// ---- strings ----------------------------------------------------------------------

describe("string section", () => {
  it("not NUL-terminated", () => {
    const b = base();
    b.bytes[b.bytes.length - 1] = 0x78;
    expectError(parse(b), { code: "BAD_STRINGS", offset: b.bytes.length - 1 });
  });
  it("empty in base BTF", () => {
    const b = assemble({ types: [[0, info(K.PTR), 0]], strs: new Uint8Array(0) });
    expectError(parse(b), { code: "BAD_STRINGS", offset: 24 + 12, message: /empty/ });
  });
  it("base BTF whose strings do not start with NUL", () => {
    const s = new Strings(0, false);
    const b = assemble({ types: [[s.o("int"), info(K.INT), 4, 32]], strs: s.section() });
    expectError(parse(b), { code: "BAD_STRINGS", offset: 24 + 16, message: /NUL/ });
  });
  it("name offset out of range", () => {
    const b = base();
    setU32(b, at(b, 1), b.strLen + 5);
    expectError(parse(b), { code: "BAD_STR_OFFSET", offset: at(b, 1), typeId: 1 });
  });
  it("member name offset out of range", () => {
    const b = base();
    setU32(b, at(b, 3) + 12, 0x7fffffff);
    expectError(parse(b), { code: "BAD_STR_OFFSET", offset: at(b, 3) + 12, typeId: 3 });
  });
  it("enumerator name offset out of range, big-endian", () => {
    const b = base(true);
    setU32(b, at(b, 19) + 12, b.strLen);
    expectError(parse(b), { code: "BAD_STR_OFFSET", offset: at(b, 19) + 12, typeId: 19 });
  });
  it("the first offending type is reported, in id order", () => {
    const b = base();
    setU32(b, at(b, 20) + 12, b.strLen + 1); // a bad member name late
    setU32(b, at(b, 9) + 12, 500); // an earlier bad element type
    expectError(parse(b), { code: "BAD_TYPE_ID", offset: at(b, 9) + 12, typeId: 9 });
  });
});

// ---- type records ----------------------------------------------------------------------

describe("type records", () => {
  it("vlen runs past the end of the type section", () => {
    const b = base();
    setU32(b, at(b, 3) + 4, info(K.STRUCT, 1000));
    expectError(parse(b), { code: "BAD_TYPE_LEN", offset: at(b, 3), typeId: 3 });
  });
  it("vlen runs past the end, big-endian", () => {
    const b = base(true);
    setU32(b, at(b, 12) + 4, info(K.DATASEC, 60000));
    expectError(parse(b), { code: "BAD_TYPE_LEN", offset: at(b, 12), typeId: 12 });
  });
  it("truncated record", () => {
    const b = base();
    setU32(b, 12, b.typeLen - 4); // the last (12-byte) record keeps 8 bytes
    expectError(parse(b), { code: "TRUNCATED", offset: at(b, LAST_BASE_ID), typeId: LAST_BASE_ID });
  });
  it("unknown kind without a layout section", () => {
    const b = base();
    setU32(b, at(b, 1) + 4, info(25));
    expectError(parse(b), { code: "UNKNOWN_KIND", offset: at(b, 1) + 4, typeId: 1 });
  });
  it("kind 0 (UNKN) without a layout section", () => {
    const b = base();
    setU32(b, at(b, 2) + 4, 0);
    expectError(parse(b), { code: "UNKNOWN_KIND", offset: at(b, 2) + 4, typeId: 2 });
  });

  function withLayout(be: boolean) {
    // 32-byte header; kind 25 is described by the layout section as 4 bytes
    // of info plus 8 bytes per element, so it can be skipped.
    const { s, types } = baseSpec((s) => [[s.o("future"), info(25, 2), 0, 0xaaaaaaaa, 1, 2, 3, 4]]);
    const layout = new Uint8Array(26 * 4);
    layout[25 * 4] = 4;
    layout[25 * 4 + 1] = 8;
    return assemble({ types, strs: s.section(), hdrLen: 32, layout, be });
  }
  for (const be of [false, true]) {
    it(`unknown kind described by a layout section: skipped, dump and write still work (${be ? "BE" : "LE"})`, () => {
      const b = withLayout(be);
      const btf = Btf.parse(b.bytes.slice());
      expect(btf.typeCount).toBe(LAST_BASE_ID + 2);
      expect(btf.type(22).kind).toBe(25);
      const raw = btf.dumpRaw();
      expect(raw).toContain("[22] UNKNOWN 'future'");
      expect(raw).toContain("[21] RESTRICT '(anon)' type_id=2");
      expect(JSON.parse(btf.dump("json")).types.length).toBeGreaterThan(0);
      expect(Buffer.from(btf.toBytes({ endian: be ? "big" : "little" })).equals(Buffer.from(b.bytes))).toBe(true);
      // The kernel knows no kind 25 (and no layout fields in the header).
      expectError(() => btf.validateKernel(), { code: "UNKNOWN_KIND", offset: b.rec[21] + 4, typeId: 22 });
      expectError(parse(b, { validate: "kernel" }), { code: "BAD_HEADER", offset: 24 });
      btf.free();
    });
  }
  it("unknown kind beyond the layout section's entries", () => {
    const b = withLayout(false);
    setU32(b, b.rec[21] + 4, info(40, 2));
    expectError(parse(b), { code: "UNKNOWN_KIND", offset: b.rec[21] + 4, typeId: 22, message: /layout/ });
  });
});

// ---- references --------------------------------------------------------------------------

describe("references", () => {
  it("referenced id out of range", () => {
    const b = base();
    setU32(b, at(b, 2) + 8, 999);
    expectError(parse(b), { code: "BAD_TYPE_ID", offset: at(b, 2) + 8, typeId: 2 });
  });
  it("member type out of range, big-endian", () => {
    const b = base(true);
    setU32(b, at(b, 3) + 12 + 12 + 4, LAST_BASE_ID + 1);
    expectError(parse(b), { code: "BAD_TYPE_ID", offset: at(b, 3) + 28, typeId: 3 });
  });
  it("FUNC pointing at a non-FUNC_PROTO", () => {
    const b = base();
    setU32(b, at(b, 7) + 8, 1);
    expectError(parse(b), { code: "BAD_FUNC", offset: at(b, 7) + 8, typeId: 7 });
  });
  it("FUNC pointing forward at a FUNC_PROTO is fine, at a later INT is not", () => {
    const good = base(false, (s) => [[s.o("g"), info(K.FUNC), LAST_BASE_ID + 2], [0, info(K.FUNC_PROTO), 0]]);
    Btf.parse(good.bytes.slice()).free();
    const bad = base(false, (s) => [[s.o("g"), info(K.FUNC), LAST_BASE_ID + 2], [s.o("i"), info(K.INT), 4, 8]]);
    expectError(parse(bad), { code: "BAD_FUNC", offset: bad.rec[LAST_BASE_ID] + 8, typeId: LAST_BASE_ID + 1 });
  });
  it("FUNC pointing at VOID, big-endian", () => {
    const b = base(true);
    setU32(b, at(b, 7) + 8, 0);
    expectError(parse(b), { code: "BAD_FUNC", offset: at(b, 7) + 8, typeId: 7 });
  });
  it("typedef loop", () => {
    const b = base(false, (s) => [[s.o("ta"), info(K.TYPEDEF), LAST_BASE_ID + 2], [s.o("tb"), info(K.TYPEDEF), LAST_BASE_ID + 1]]);
    expectError(parse(b), { code: "LOOP", offset: b.rec[LAST_BASE_ID], typeId: LAST_BASE_ID + 1 });
  });
  it("typedef pointing at itself", () => {
    const b = base();
    setU32(b, at(b, 4) + 8, 4);
    expectError(parse(b), { code: "LOOP", offset: at(b, 4), typeId: 4 });
  });
  it("const/volatile loop", () => {
    const b = base(false, () => [[0, info(K.CONST), LAST_BASE_ID + 2], [0, info(K.VOLATILE), LAST_BASE_ID + 1]]);
    expectError(parse(b), { code: "LOOP", offset: b.rec[LAST_BASE_ID], typeId: LAST_BASE_ID + 1 });
  });
  it("pointer/array loop entered from a backward chain", () => {
    // 22 -> 23 (array) -> 24 (ptr) -> 23: the loop closes at 24 -> 23.
    const b = base(false, () => [[0, info(K.CONST), LAST_BASE_ID + 2], [0, info(K.ARRAY), 0, LAST_BASE_ID + 3, 1, 2], [0, info(K.PTR), LAST_BASE_ID + 2]]);
    expectError(parse(b), { code: "LOOP", offset: b.rec[LAST_BASE_ID + 1], typeId: LAST_BASE_ID + 2 });
  });
});

// ---- kernel-level checks --------------------------------------------------------------------

describe("kernel-level checks (libbpf accepts these)", () => {
  it("member offset beyond the struct size", () => {
    const b = base();
    setU32(b, at(b, 3) + 12 + 12 + 8, 200);
    expectKernelError(b, { code: "BAD_MEMBER", offset: at(b, 3) + 32, typeId: 3 });
  });
  it("invalid typedef name", () => {
    const b = base(false, (s) => [[s.o("1bad"), info(K.TYPEDEF), 1]]);
    expectKernelError(b, { code: "BAD_NAME", offset: b.rec[LAST_BASE_ID], typeId: LAST_BASE_ID + 1 });
  });
  it("bad INT encoding", () => {
    const b = base();
    setU32(b, at(b, 1) + 12, (3 << 24) | 32);
    expectKernelError(b, { code: "BAD_ENCODING", offset: at(b, 1) + 12, typeId: 1 });
  });
  it("INT wider than its size, big-endian", () => {
    const b = base(true);
    setU32(b, at(b, 1) + 12, (1 << 24) | 64);
    expectKernelError(b, { code: "BAD_SIZE", offset: at(b, 1) + 12, typeId: 1 });
  });
  it("FUNC linkage > 1", () => {
    const b = base();
    setU32(b, at(b, 7) + 4, info(K.FUNC, 2));
    expectKernelError(b, { code: "BAD_LINKAGE", offset: at(b, 7) + 4, typeId: 7 });
  });
  it("bad FLOAT size", () => {
    const b = base();
    setU32(b, at(b, 13) + 8, 3);
    expectKernelError(b, { code: "BAD_SIZE", offset: at(b, 13) + 8, typeId: 13 });
  });
  it("DATASEC entries overlap", () => {
    const b = base();
    setU32(b, at(b, 12) + 12 + 12 + 4, 2);
    expectKernelError(b, { code: "BAD_DATASEC", offset: at(b, 12) + 28, typeId: 12 });
  });
  it("type tag after const", () => {
    const b = base();
    setU32(b, at(b, 5) + 8, 16);
    expectKernelError(b, { code: "BAD_TYPE_TAG", offset: at(b, 5), typeId: 5 });
  });
  it("reserved info bits", () => {
    const b = base();
    setU32(b, at(b, 1) + 4, info(K.INT) | (1 << 16));
    expectKernelError(b, { code: "BAD_INFO", offset: at(b, 1) + 4, typeId: 1 });
  });
  it("reserved info bits, big-endian", () => {
    const b = base(true);
    setU32(b, at(b, 2) + 4, info(K.PTR) | (1 << 29));
    expectKernelError(b, { code: "BAD_INFO", offset: at(b, 2) + 4, typeId: 2 });
  });
  it("INT with a vlen", () => {
    const b = base();
    setU32(b, at(b, 1) + 4, info(K.INT, 3));
    expectKernelError(b, { code: "BAD_VLEN", offset: at(b, 1) + 4, typeId: 1 });
  });
  it("ARRAY with index type 0", () => {
    const b = base();
    setU32(b, at(b, 9) + 16, 0);
    expectKernelError(b, { code: "BAD_TYPE_ID", offset: at(b, 9) + 16, typeId: 9 });
  });
  it("identifier length: 512 bytes pass, 513 do not", () => {
    const ok = base(false, (s) => [[s.o("a".repeat(512)), info(K.TYPEDEF), 1]]);
    Btf.parse(ok.bytes.slice(), { validate: "kernel" }).free();
    const long = base(false, (s) => [[s.o("a".repeat(513)), info(K.TYPEDEF), 1]]);
    expectKernelError(long, { code: "BAD_NAME", offset: long.rec[LAST_BASE_ID], typeId: LAST_BASE_ID + 1 });
  });
  it("identifier bytes as the kernel's ctype sees them: Latin-1 letters pass, 0x80 does not", () => {
    const latin = base(false, (s) => [[s.o("caf\u00e9"), info(K.TYPEDEF), 1]]); // UTF-8 c3 a9: 0xa9 is not a letter
    expectKernelError(latin, { code: "BAD_NAME", offset: latin.rec[LAST_BASE_ID], typeId: LAST_BASE_ID + 1 });
    const b = base(false, (s) => [[s.o("xx"), info(K.TYPEDEF), 1]]);
    const nameAt = 24 + b.strOff + getU32(b, b.rec[LAST_BASE_ID]);
    b.bytes[nameAt + 1] = 0xe9; // Latin-1 e-acute: isalpha() in the kernel
    Btf.parse(b.bytes.slice(), { validate: "kernel" }).free();
    b.bytes[nameAt + 1] = 0x80;
    expectKernelError(b, { code: "BAD_NAME", offset: b.rec[LAST_BASE_ID], typeId: LAST_BASE_ID + 1 });
  });
  it("modifier chains: 34 unresolved steps exceed the resolve depth, a long chain of resolved ids does not", () => {
    const first = LAST_BASE_ID + 1;
    const fwd = base(false, () => Array.from({ length: 34 }, (_, i) => [0, info(K.CONST), i === 33 ? 1 : first + i + 1]));
    Btf.parse(fwd.bytes.slice()).free();
    // BPF_BTF_LOAD resolves before btf_check_type_tags: the resolve stack (32) overflows first.
    expectKernelError(fwd, { code: "BAD_RESOLVE", offset: fwd.rec[LAST_BASE_ID], typeId: first });
    const back = base(false, () => Array.from({ length: 40 }, (_, i) => [0, info(K.CONST), i === 0 ? 1 : first + i - 1]));
    Btf.parse(back.bytes.slice(), { validate: "kernel" }).free();
  });
  it("a DATASEC entry starting at the section's end is a bad offset (checked before its size)", () => {
    const b = base();
    setU32(b, at(b, 12) + 24 + 4, 8);
    setU32(b, at(b, 12) + 24 + 8, 0);
    expectKernelError(b, { code: "BAD_DATASEC", offset: at(b, 12) + 28, typeId: 12 });
  });
  it("a DECL_TAG's value is checked before its vlen", () => {
    const b = base();
    setU32(b, at(b, 18), 0);
    setU32(b, at(b, 18) + 4, info(K.DECL_TAG, 1));
    expectKernelError(b, { code: "BAD_NAME", offset: at(b, 18), typeId: 18 });
  });
  it("parameter names are checked by BPF_BTF_LOAD's resolve pass (btf_func_proto_check), not by the meta pass", () => {
    const b = base(false, (s) => [[0, info(K.FUNC_PROTO, 1), 1, s.o("1x"), 1]]);
    const id = LAST_BASE_ID + 1;
    expectKernelError(b, { code: "BAD_FUNC", offset: b.rec[LAST_BASE_ID] + 12, typeId: id });
  });
  it("reserved info bits under a 32-byte header (zero layout fields)", () => {
    const { s, types } = baseSpec();
    const b = assemble({ types, strs: s.section(), hdrLen: 32 });
    Btf.parse(b.bytes.slice(), { validate: "kernel" }).free();
    setU32(b, b.rec[1] + 4, info(K.PTR) | (1 << 20));
    expectKernelError(b, { code: "BAD_INFO", offset: b.rec[1] + 4, typeId: 2 });
  });
  it("a split module the kernel would refuse", () => {
    const bb = base();
    const baseBtf = Btf.parse(bb.bytes.slice());
    const m = splitOn(bb, false, true);
    expectKernelError(m, { code: "BAD_NAME", offset: m.rec[1], typeId: LAST_BASE_ID + 2 }, baseBtf);
    baseBtf.free();
  });
});

// ---- split BTF -------------------------------------------------------------------------------

describe("split BTF without its base", () => {
  it("synthetic module", () => {
    const m = splitOn(base());
    expectError(parse(m), { code: "NO_BASE", offset: 24 + m.typeLen, message: /without its base/ });
  });
  it("a real module (loop)", () => {
    const bytes = fixture("k61-50/modules/loop.btf.gz");
    const strOff = new DataView(bytes.buffer, bytes.byteOffset).getUint32(16, true);
    expectError(parse(bytes), { code: "NO_BASE", offset: 24 + strOff });
  });
  it("a real module with an empty string section (cast_common)", () => {
    const bytes = fixture("k61-50/modules/cast_common.btf.gz");
    const strOff = new DataView(bytes.buffer, bytes.byteOffset).getUint32(16, true);
    expectError(parse(bytes), { code: "NO_BASE", offset: 24 + strOff });
  });
  it("split names beyond the base's and its own strings", () => {
    const bb = base();
    const baseBtf = Btf.parse(bb.bytes.slice());
    const m = splitOn(bb);
    setU32(m, m.rec[0], bb.strLen + m.strLen);
    expectError(() => Btf.parse(m.bytes.slice(), { base: baseBtf }), { code: "BAD_STR_OFFSET", offset: m.rec[0], typeId: LAST_BASE_ID + 1 });
    baseBtf.free();
  });
});

// ---- property: random corruption never traps ------------------------------------------------

describe("random corruption", () => {
  it("never traps: every outcome is a typed error or a usable object", () => {
    const codes = new Map<string, number>();
    const valid = [base(false), base(true)];
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        fc.nat(),
        (which, edits, cut) => {
          const src = valid[which].bytes;
          const b = src.slice(0, cut % 7 === 0 ? cut % (src.length + 1) : src.length);
          for (const [pos, v] of edits) if (b.length) b[pos % b.length] = v;
          let btf: Btf | undefined;
          try {
            btf = Btf.parse(b);
            btf.dumpRaw();
            btf.dump("json");
            btf.toBytes({ endian: "big" });
            btf.validateKernel();
            codes.set("OK", (codes.get("OK") ?? 0) + 1);
          } catch (e) {
            if (!(e instanceof BtfError)) throw e;
            if (e.code === "INTERNAL") throw new Error(`trap: ${e.message} on ${Buffer.from(b).toString("hex")}`);
            codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
          } finally {
            btf?.free();
          }
        },
      ),
      { numRuns: 3000, seed: 20260725 },
    );
    console.log(`random corruption: ${[...codes].map(([c, n]) => `${c} ${n}`).join(", ")}`);
    expect(codes.size).toBeGreaterThan(8);
  });
});

// ---- compressed input ------------------------------------------------------------------------

describe("compressed input", () => {
  it("a gzip bomb stops at the cap, quickly and without allocating the full size", async () => {
    const full = 128 * 1024 * 1024;
    const gz = new Uint8Array(gzipSync(Buffer.alloc(full), { level: 9 }));
    expect(gz.length).toBeLessThan(full / 500);
    const before = process.memoryUsage().arrayBuffers;
    const t0 = performance.now();
    await expectErrorAsync(loadBtf(gz, { maxSize: 1 << 20 }), { code: "TOO_LARGE" });
    const ms = performance.now() - t0;
    const grew = process.memoryUsage().arrayBuffers - before;
    console.log(`gzip bomb: refused in ${ms.toFixed(0)} ms, array buffers grew ${(grew / 1e6).toFixed(1)} MB (full size ${full / 1e6} MB)`);
    expect(grew).toBeLessThan(64 * 1024 * 1024);
    expect(ms).toBeLessThan(5000);
  });
  it("a truncated gzip", async () => {
    const gz = new Uint8Array(gzipSync(Buffer.from(base().bytes)));
    await expectErrorAsync(loadBtf(gz.subarray(0, gz.length >> 1)), { code: "BAD_COMPRESSED" });
  });
  it("a gzip of malformed BTF reports the BTF error", async () => {
    const b = base();
    setU32(b, at(b, 2) + 8, 999);
    const e = await expectErrorAsync(loadBtf(new Uint8Array(gzipSync(Buffer.from(b.bytes))), { file: "x.btf.gz" }), { code: "BAD_TYPE_ID", offset: at(b, 2) + 8 });
    expect(e.typeId).toBe(2);
    expect(e.file).toBe("x.btf.gz");
  });
});

// ---- the CLI ---------------------------------------------------------------------------------

describe("CLI", () => {
  const dir = mkdtempSync(join(tmpdir(), "btfkit-malformed-"));
  it("info on malformed BTF: exit 2, one stderr line naming the file, offset and type id", () => {
    const b = base();
    setU32(b, at(b, 2) + 8, 999);
    const file = join(dir, "bad.btf");
    writeFileSync(file, b.bytes);
    const r = cli(["info", file]);
    expect(r.code).toBe(2);
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(file);
    expect(lines[0]).toContain(`offset ${at(b, 2) + 8}`);
    expect(lines[0]).toContain("type [2]");
    expect(lines[0]).toContain("BAD_TYPE_ID");
  });
  it("info --validate kernel: 0 for a real module, 2 for one the kernel would refuse", () => {
    const ok = cli(["info", fixturePath("k61-50/modules/loop.btf.gz"), "--base", fixturePath("k61-50/vmlinux.btf.gz"), "--validate", "kernel"]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout.toString()).toContain("validation:  passed (kernel)");
    const bb = base();
    const baseFile = join(dir, "base.btf");
    const modFile = join(dir, "mod.btf");
    writeFileSync(baseFile, bb.bytes);
    writeFileSync(modFile, splitOn(bb, false, true).bytes);
    expect(cli(["info", modFile, "--base", baseFile]).code).toBe(0);
    const bad = cli(["info", modFile, "--base", baseFile, "--validate", "kernel"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(bad.stderr).toContain(modFile);
    expect(bad.stderr).toContain(`type [${LAST_BASE_ID + 2}]`);
  });
  it("info on a split module without --base says so", () => {
    const r = cli(["info", fixturePath("k61-50/modules/loop.btf.gz")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("NO_BASE");
  });
});

// ---- the corpus ------------------------------------------------------------------------------

describe.runIf(HAS_CORPUS)("corpus", () => {
  it("every blob passes the kernel-level checks, and corrupted copies never trap", () => {
    let valid = 0, corrupted = 0;
    const codes = new Map<string, number>();
    let seed = 12345;
    const rnd = () => { seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0; return seed; };
    for (const k of ["k61-50", "k61-47", "k61-50-cloud"]) {
      const baseBytes = readMaybeGz(join(CORPUS, k, "vmlinux.btf.gz"));
      const baseBtf = Btf.parse(baseBytes, { validate: "kernel" });
      valid++;
      for (const m of corpusModules(k)) {
        const bytes = new Uint8Array(readFileSync(join(CORPUS, k, "modules", m + ".btf")));
        Btf.parse(bytes, { base: baseBtf, validate: "kernel" }).free();
        valid++;
        // Three corruptions per module: a cut, a word in the type section, a header word.
        const typeLen = new DataView(bytes.buffer).getUint32(12, true);
        const variants: Uint8Array[] = [bytes.slice(0, 24 + (rnd() % (bytes.length - 24)))];
        if (typeLen >= 4) {
          const w = bytes.slice();
          new DataView(w.buffer).setUint32(24 + 4 * (rnd() % (typeLen >> 2)), rnd(), true);
          variants.push(w);
        }
        const h = bytes.slice();
        new DataView(h.buffer).setUint32(4 * (1 + (rnd() % 5)), rnd() % (bytes.length * 2), true);
        variants.push(h);
        for (const v of variants) {
          corrupted++;
          try {
            Btf.parse(v, { base: baseBtf, validate: "kernel" }).free();
            codes.set("OK", (codes.get("OK") ?? 0) + 1);
          } catch (e) {
            expect(e).toBeInstanceOf(BtfError);
            expect((e as BtfError).code).not.toBe("INTERNAL");
            codes.set((e as BtfError).code, (codes.get((e as BtfError).code) ?? 0) + 1);
          }
        }
      }
      baseBtf.free();
    }
    console.log(`corpus: ${valid} blobs valid at kernel level; ${corrupted} corrupted copies, outcomes ${[...codes].map(([c, n]) => `${c} ${n}`).join(", ")}`);
    expect(valid).toBe(503);
  });
});
