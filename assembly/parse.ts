// Bytes -> Btf. Follows libbpf's btf_new(): btf_parse_hdr, btf_parse_str_sec,
// btf_parse_type_sec (with btf_bswap_* for foreign byte order), then
// validation (validate.ts) at the requested level. Every record is bounds
// checked here once, so accessors elsewhere may read without checks.

import { Btf } from "./btf";
import { Err, fail } from "./errors";
import { bswap16, bswap32, swapWords } from "./bytes";
import {
  BTF_MAGIC, BTF_MAGIC_SWAPPED, COMMON_LEN, HDR_LEN_CLASSIC, HDR_LEN_LAYOUT,
  H_FLAGS, H_HDR_LEN, H_MAGIC, H_LAYOUT_LEN, H_LAYOUT_OFF, H_STR_LEN, H_STR_OFF, H_TYPE_LEN,
  H_TYPE_OFF, H_VERSION, KIND_ARRAY, KIND_DATASEC, KIND_DECL_TAG, KIND_ENUM,
  KIND_ENUM64, KIND_FUNC, KIND_FUNC_PROTO, KIND_FWD, KIND_INT, KIND_MAX, KIND_STRUCT,
  KIND_UNION, KIND_VAR, T_INFO, T_NAME, T_SIZE, infoKind, infoVlen, trailingLen, kindName,
} from "./format";
import { strFieldAddr, strFieldCount, typeIdFieldAddr, typeIdFieldCount } from "./fields";
import { WalkSummary } from "./walk";
import { chainRefAddr, isChainKind, kernelMeta, kernelResolveAndTags, validateLibbpfAfterWalk, validateKernel } from "./validate";

export const LEVEL_LIBBPF: i32 = 0;
export const LEVEL_KERNEL: i32 = 1;
/**
 * Exactly what a kernel runs on module BTF at load (btf_parse_module: header,
 * strings, per-type meta checks, type tags), without libbpf's reference
 * checks. Only for verdicts: the object is never handed out (api/check.ts).
 */
export const LEVEL_KERNEL_LOAD: i32 = 2;

/**
 * Parse the blob at [mem, mem+size). `owned` is heap memory the Btf takes
 * over (0 to borrow). `fileOff` is the blob's position in the input file,
 * added to error offsets. `base` makes this split BTF (its reference is
 * retained). Returns null with the error recorded.
 */
export function parseBtf(mem: usize, size: u32, owned: usize, base: Btf | null, level: i32, fileOff: u32): Btf | null {
  const btf = new Btf();
  btf.mem = mem;
  btf.size = size;
  btf.owned = owned;
  if (base !== null) {
    base.retain();
    btf.base = base;
    btf.startId = base.typeCnt();
    btf.startStrOff = base.strEnd();
  }
  const sum = new WalkSummary();
  let ok = parseHeader(btf, level, fileOff);
  let needsBase = false;
  if (ok) {
    const st = parseStrings(btf, level, fileOff);
    ok = st != STR_FAIL;
    needsBase = st == STR_NEEDS_BASE;
  }
  if (ok) {
    ok = parseTypes(btf, fileOff, sum);
    // The kernel checks each record's meta as its walk reaches it: a record
    // the walk cannot read at type N comes after meta faults of types < N.
    if (!ok && !needsBase && level >= LEVEL_KERNEL && btf.count > 0) kernelMeta(btf, fileOff, false);
  }
  if (needsBase) ok = failNeedsBase(btf, fileOff, sum, ok);
  if (ok) {
    if (level == LEVEL_KERNEL) {
      // BPF_BTF_LOAD's order: every record's meta, then the resolve pass
      // (which checks every reference itself: ids out of range are its
      // "Invalid type_id"), then the type tags. The libbpf-level checks come
      // last: what is left for them (reference-chain loops the kernel lets
      // through) is what btfkit's own tools rely on.
      ok = kernelMeta(btf, fileOff, true) && kernelResolveAndTags(btf, fileOff, true) && validateLibbpfAfterWalk(btf, fileOff, sum);
    } else {
      ok = (level == LEVEL_KERNEL_LOAD || validateLibbpfAfterWalk(btf, fileOff, sum)) && (level < LEVEL_KERNEL || validateKernel(btf, fileOff, false));
    }
  }
  sum.dispose();
  if (!ok) {
    btf.owned = 0; // the caller still owns the memory on failure
    btf.release();
    return null;
  }
  return btf;
}

/**
 * Write a native-order header of `hdrLen` bytes (24, or 32 with the layout
 * fields) at `mem`, laid out as libbpf's btf_get_raw_data writes one: types
 * at offset 0, then the layout section (when `layoutLen` > 0), then the
 * strings. The mirror of parseHeader, through the same H_* offsets.
 */
export function writeHeader(mem: usize, hdrLen: u32, flags: u32, typeLen: u32, layoutLen: u32, strLen: u32): void {
  store<u16>(mem + H_MAGIC, <u16>BTF_MAGIC);
  store<u8>(mem + H_VERSION, 1);
  store<u8>(mem + H_FLAGS, <u8>flags);
  store<u32>(mem + H_HDR_LEN, hdrLen);
  store<u32>(mem + H_TYPE_OFF, 0);
  store<u32>(mem + H_TYPE_LEN, typeLen);
  store<u32>(mem + H_STR_OFF, typeLen + layoutLen);
  store<u32>(mem + H_STR_LEN, strLen);
  if (hdrLen >= HDR_LEN_LAYOUT) {
    store<u32>(mem + H_LAYOUT_OFF, layoutLen > 0 ? typeLen : 0);
    store<u32>(mem + H_LAYOUT_LEN, layoutLen);
  }
}

function parseHeader(btf: Btf, level: i32, fileOff: u32): bool {
  const mem = btf.mem;
  const size = btf.size;
  if (size < 2) return truncatedHeader(size, fileOff);
  const magic = <u32>load<u16>(mem);
  if (magic == BTF_MAGIC_SWAPPED) btf.bigEndian = true;
  else if (magic != BTF_MAGIC) return fail(Err.BAD_MAGIC, fileOff, 0, "bad BTF magic 0x" + magic.toString(16) + " (want 0xeb9f)");
  if (size < 4) return truncatedHeader(size, fileOff);
  btf.version = load<u8>(mem + H_VERSION);
  btf.flags = load<u8>(mem + H_FLAGS);
  if (btf.version != 1) return fail(Err.BAD_VERSION, fileOff + H_VERSION, 0, "unsupported BTF version " + btf.version.toString());
  if (level >= LEVEL_KERNEL && btf.flags != 0) return fail(Err.BAD_FLAGS, fileOff + H_FLAGS, 0, "non-zero BTF header flags 0x" + btf.flags.toString(16));
  if (size < 8) return truncatedHeader(size, fileOff);
  let hdrLen = load<u32>(mem + H_HDR_LEN);
  if (btf.bigEndian) hdrLen = bswap32(hdrLen);
  if (hdrLen < HDR_LEN_CLASSIC) return fail(Err.BAD_HEADER, fileOff + H_HDR_LEN, 0, "hdr_len " + hdrLen.toString() + " is below 24");
  if (size < HDR_LEN_CLASSIC) return truncatedHeader(size, fileOff);
  if (<u64>hdrLen > <u64>size) return fail(Err.TRUNCATED, fileOff + size, 0, "BTF header truncated: hdr_len is " + hdrLen.toString() + " but the data has " + size.toString() + " bytes" + (size < HDR_LEN_LAYOUT && hdrLen >= HDR_LEN_LAYOUT ? " (inside " + headerField(size) + ")" : ""));
  btf.hdrLen = hdrLen;
  // Normalise the header to native order in place.
  if (btf.bigEndian) {
    store<u16>(mem, <u16>bswap16(magic));
    swapWords(mem + 4, (min<u32>(hdrLen, HDR_LEN_LAYOUT) - 4) >> 2);
  }
  btf.typeOff = load<u32>(mem + H_TYPE_OFF);
  btf.typeLen = load<u32>(mem + H_TYPE_LEN);
  btf.strOff = load<u32>(mem + H_STR_OFF);
  btf.strLen = load<u32>(mem + H_STR_LEN);
  if (hdrLen >= HDR_LEN_LAYOUT) {
    btf.wide = true;
    btf.layoutOff = load<u32>(mem + H_LAYOUT_OFF);
    btf.layoutLen = load<u32>(mem + H_LAYOUT_LEN);
  }
  // Bytes of the header that we do not know must be zero (kernel: bytes past 24).
  const known: u32 = level >= LEVEL_KERNEL ? HDR_LEN_CLASSIC : (hdrLen >= HDR_LEN_LAYOUT ? HDR_LEN_LAYOUT : HDR_LEN_CLASSIC);
  for (let i = known; i < hdrLen; i++) {
    if (load<u8>(mem + i) != 0) return fail(Err.BAD_HEADER, fileOff + i, 0, "unsupported BTF header: non-zero byte at header offset " + i.toString());
  }
  const dataLen = <u64>(size - hdrLen);
  if (btf.typeOff & 3) return fail(Err.BAD_ALIGN, fileOff + H_TYPE_OFF, 0, "type_off " + btf.typeOff.toString() + " is not 4-byte aligned");
  if (<u64>btf.typeOff + btf.typeLen > dataLen) return fail(Err.BAD_SECTION, fileOff + H_TYPE_LEN, 0, "type section [" + btf.typeOff.toString() + ", +" + btf.typeLen.toString() + ") runs past the data (" + dataLen.toString() + " bytes)");
  if (<u64>btf.strOff + btf.strLen > dataLen) return fail(Err.BAD_SECTION, fileOff + H_STR_LEN, 0, "string section [" + btf.strOff.toString() + ", +" + btf.strLen.toString() + ") runs past the data (" + dataLen.toString() + " bytes)");
  if (<u64>btf.layoutOff + btf.layoutLen > dataLen) return fail(Err.BAD_SECTION, fileOff + H_LAYOUT_LEN, 0, "layout section runs past the data");
  if (overlap(btf.typeOff, btf.typeLen, btf.strOff, btf.strLen))
    return fail(Err.SECTION_OVERLAP, fileOff + H_STR_OFF, 0, "type and string sections overlap");
  // libbpf requires types before strings (btf_parse_hdr: type_off + type_len > str_off).
  if (btf.typeLen > 0 && btf.strLen > 0 && <u64>btf.typeOff + btf.typeLen > btf.strOff)
    return fail(Err.SECTION_OVERLAP, fileOff + H_STR_OFF, 0, "string section starts before the end of the type section");
  if (btf.layoutLen > 0) {
    if (btf.layoutOff & 3 || btf.layoutLen & 3) return fail(Err.BAD_ALIGN, fileOff + H_LAYOUT_OFF, 0, "layout section is not 4-byte aligned");
    if (overlap(btf.layoutOff, btf.layoutLen, btf.typeOff, btf.typeLen) || overlap(btf.layoutOff, btf.layoutLen, btf.strOff, btf.strLen))
      return fail(Err.SECTION_OVERLAP, fileOff + H_LAYOUT_OFF, 0, "layout section overlaps another section");
  }
  if (level >= LEVEL_KERNEL) {
    // btf_check_sec_info: sections, sorted by offset, tile the data exactly.
    let expect: u64 = 0;
    let a0 = btf.typeOff, a1 = btf.typeLen, b0 = btf.strOff, b1 = btf.strLen;
    if (b0 < a0) { a0 = btf.strOff; a1 = btf.strLen; b0 = btf.typeOff; b1 = btf.typeLen; }
    if (<u64>a0 != expect) return fail(Err.BAD_SECTION, fileOff + hdrLen, 0, "unsupported section found (gap before offset " + a0.toString() + ")");
    expect = <u64>a0 + a1;
    if (<u64>b0 != expect) return fail(Err.BAD_SECTION, fileOff + hdrLen + <u32>expect, 0, "unsupported section found (gap before offset " + b0.toString() + ")");
    expect = <u64>b0 + b1;
    if (expect != dataLen) return fail(Err.BAD_SECTION, fileOff + hdrLen + <u32>expect, 0, "unsupported section found (trailing bytes)");
    if (<u64>btf.strOff + btf.strLen != dataLen) return fail(Err.BAD_SECTION, fileOff + hdrLen + btf.strOff, 0, "string section is not at the end");
    if (btf.base === null && dataLen == 0) return fail(Err.BAD_SECTION, fileOff + hdrLen, 0, "no data after the header");
  }
  btf.types = btf.mem + hdrLen + btf.typeOff;
  btf.strs = btf.mem + hdrLen + btf.strOff;
  if (btf.layoutLen > 0) {
    btf.layout = btf.mem + hdrLen + btf.layoutOff;
    if (btf.bigEndian) {
      for (let i: u32 = 0; i < btf.layoutLen; i += 4) {
        const a = btf.layout + i + 2;
        store<u16>(a, <u16>bswap16(load<u16>(a)));
      }
    }
  }
  return true;
}

/** The header field that byte `pos` falls in. */
function headerField(pos: u32): string {
  if (pos < H_VERSION) return "magic";
  if (pos < H_FLAGS) return "version";
  if (pos < H_HDR_LEN) return "flags";
  if (pos < H_TYPE_OFF) return "hdr_len";
  if (pos < H_TYPE_LEN) return "type_off";
  if (pos < H_STR_OFF) return "type_len";
  if (pos < H_STR_LEN) return "str_off";
  if (pos < H_LAYOUT_OFF) return "str_len";
  if (pos < H_LAYOUT_LEN) return "layout_off";
  return "layout_len";
}

/** The data ends at `size`, inside the fixed part of the header. */
function truncatedHeader(size: u32, fileOff: u32): bool {
  return fail(Err.TRUNCATED, fileOff + size, 0, "BTF header truncated after " + size.toString() + " bytes, inside " + headerField(size));
}

@inline function overlap(o1: u32, l1: u32, o2: u32, l2: u32): bool {
  if (l1 == 0 || l2 == 0) return false;
  return <u64>o1 < <u64>o2 + l2 && <u64>o2 < <u64>o1 + l1;
}

const STR_OK: i32 = 0;
const STR_FAIL: i32 = 1;
/** Only the rules for base BTF failed, and no base was given: see failNeedsBase. */
const STR_NEEDS_BASE: i32 = 2;

/** libbpf btf_parse_str_sec (kernel btf_parse_str_sec), in libbpf's order. */
function parseStrings(btf: Btf, level: i32, fileOff: u32): i32 {
  const off = fileOff + btf.hdrLen + btf.strOff;
  const len = btf.strLen;
  const p = btf.strs;
  if (len == 0) {
    if (btf.base !== null) return STR_OK; // a split BTF may have no strings of its own
    baseStringsError(btf, fileOff);
    return STR_NEEDS_BASE;
  }
  if (load<u8>(p + len - 1) != 0) { fail(Err.BAD_STRINGS, off + len - 1, 0, "string section is not NUL-terminated"); return STR_FAIL; }
  const maxOff: u32 = level >= LEVEL_KERNEL ? 0xffffff : 0x7fffffff;
  if (len - 1 > maxOff) { fail(Err.BAD_STRINGS, off, 0, "string section too large (" + len.toString() + " bytes)"); return STR_FAIL; }
  if (<u64>btf.startStrOff + len > 0xffffffff) { fail(Err.BAD_STRINGS, off, 0, "string offsets overflow 32 bits"); return STR_FAIL; }
  if (btf.base === null && load<u8>(p) != 0) {
    baseStringsError(btf, fileOff);
    return STR_NEEDS_BASE;
  }
  return STR_OK;
}

/** The base-only string rule that failed (empty section, or no NUL first). */
function baseStringsError(btf: Btf, fileOff: u32): bool {
  const off = fileOff + btf.hdrLen + btf.strOff;
  return btf.strLen == 0
    ? fail(Err.BAD_STRINGS, off, 0, "empty string section in base BTF")
    : fail(Err.BAD_STRINGS, off, 0, "string section does not start with a NUL byte");
}

/**
 * Base BTF needs a string section starting with NUL; split BTF does not
 * (libbpf: "did you forget to provide base BTF?"). When the types also
 * point past this blob (an id beyond its own count, a name beyond its own
 * strings), the input is split BTF given without its base: NO_BASE says so.
 * Otherwise it is malformed base BTF. A walk that failed keeps the string
 * error, which libbpf reports first. Always returns false.
 */
function failNeedsBase(btf: Btf, fileOff: u32, sum: WalkSummary, walked: bool): bool {
  if (walked && (sum.maxRefId >= btf.typeCnt() || (sum.maxStrOff >= btf.strLen && sum.maxStrOff != 0)))
    return fail(Err.NO_BASE, fileOff + btf.hdrLen + btf.strOff, 0,
      (btf.strLen == 0 ? "empty string section" : "string section does not start with a NUL byte") +
      " and the types reference " + (sum.maxRefId >= btf.typeCnt() ? "type [" + sum.maxRefId.toString() + "]" : "string offset " + sum.maxStrOff.toString()) +
      ", beyond this blob: split BTF given without its base?");
  return baseStringsError(btf, fileOff);
}

/** Trailing length for `kind` from the layout section (2026), or -1. */
function layoutTrailing(btf: Btf, kind: u32, vlen: u32): i64 {
  if (btf.layout == 0 || (<u64>kind + 1) * 4 > <u64>btf.layoutLen) return -1;
  const e = btf.layout + (<usize>kind << 2);
  const infoSz = <i64>load<u8>(e);
  const elemSz = <i64>load<u8>(e, 1);
  return infoSz + <i64>vlen * elemSz;
}

// ---- the type walk --------------------------------------------------------
//
// One pass over the records does libbpf's btf_parse_type_sec (each record
// fits, known kind, tiles the section), builds the index, and gathers what
// the libbpf-level checks need, so validate.ts does not walk the types again
// on valid input:
//  - the largest string offset and the largest referenced id seen (checked
//    against strEnd and the final type count once the count is known;
//    references may point forward);
//  - FUNCs whose FUNC_PROTO is already indexed are checked on the spot, a
//    forward one defers the FUNC check to the full pass;
//  - the chain-kind types that reference an id >= their own: every cycle of
//    the reference-chain graph contains such an edge (ids cannot decrease all
//    the way round), so the loop check starts only from those.
// Any failure of the summary sends validate.ts through the full per-type
// pass, which reports the first offending type in id order as libbpf does.
//
// Field positions come from a per-kind table derived once from format.ts
// (trailing sizes) and fields.ts (the field visitor), so the walk reads each
// field with a plain load instead of a call per field, and kinds stay
// defined in those two files only. Each kind falls in a "shape" (which
// fields it has); the walk switches on the shape, one jump per record.

const SH_NAME: u32 = 0; // a name, no references (INT, FWD, FLOAT)
const SH_REF: u32 = 1; // a name and one reference (VAR, DECL_TAG)
const SH_CHAIN: u32 = 2; // a name and one followed reference (PTR, TYPEDEF, CV, TYPE_TAG)
const SH_FUNC: u32 = 3; // a name and a reference that must be a FUNC_PROTO
const SH_CHAIN2: u32 = 4; // two references, the first one followed (ARRAY)
const SH_ELEM_NAME_REF: u32 = 5; // elements with a name and a reference, maybe one fixed reference (STRUCT, UNION, FUNC_PROTO)
const SH_ELEM_NAME: u32 = 6; // elements with a name (ENUM, ENUM64)
const SH_ELEM_REF: u32 = 7; // elements with a reference (DATASEC)
const SH_GENERIC: u32 = 8; // anything else fields.ts may describe: visited field by field, and the full pass decides
const SH_UNKNOWN: u32 = 9; // no fixed layout: the layout section decides

/** Row layout of the per-kind table (u32 words). */
const L_SHAPE: u32 = 0;
const L_FIXED: u32 = 1; // trailing bytes before the elements
const L_ELEM: u32 = 2; // bytes per vlen element
const L_FIX0: u32 = 3; // byte offset of the first fixed type-id field
const L_FIX1: u32 = 4; // the second (ARRAY's index_type)
const L_M0: u32 = 5; // all ones when the kind has a first fixed type-id field, else 0
const L_ESTR: u32 = 6; // offset of element 0's name field
const L_EID: u32 = 7; // offset of element 0's type-id field
const ROW_WORDS: u32 = 8;
// 128 rows: every value the 7-bit (wide) kind field can take, so no clamp.
const LAYOUT_ROWS: u32 = 128;
const LAYOUT: usize = memory.data(<i32>(LAYOUT_ROWS * ROW_WORDS * 4));
let layoutReady = false;

@inline function row(kind: u32): usize { return LAYOUT + <usize>(kind * ROW_WORDS * 4); }
@inline function rowGet(r: usize, field: u32): u32 { return load<u32>(r + (<usize>field << 2)); }
@inline function rowSet(kind: u32, field: u32, v: u32): void { store<u32>(row(kind) + (<usize>field << 2), v); }

function buildLayoutTable(): void {
  for (let k: u32 = 0; k < LAYOUT_ROWS; k++) {
    const t0 = k <= KIND_MAX ? trailingLen(k, 0) : -1;
    const t1 = trailingLen(k, 1);
    if (k == 0 || t0 < 0) { rowSet(k, L_SHAPE, SH_UNKNOWN); continue; }
    const elem = <u32>(t1 - t0);
    rowSet(k, L_FIXED, <u32>t0);
    rowSet(k, L_ELEM, elem);
    // Strings: the name first, then at most one per element.
    const s0 = strFieldCount(k, 0), s1 = strFieldCount(k, 1);
    const elemStr = s1 > s0;
    let fits = s0 == 1 && strFieldAddr(0, k, 0) == T_NAME && s1 - s0 <= 1;
    if (elemStr) {
      rowSet(k, L_ESTR, <u32>strFieldAddr(0, k, s0));
      fits = fits && <u32>(strFieldAddr(0, k, s0 + 1) - strFieldAddr(0, k, s0)) == elem;
    }
    // Type ids: up to two at fixed positions, then at most one per element.
    // FWD's slot is not a reference (libbpf btf_validate_type skips it).
    const i0 = k == KIND_FWD ? 0 : typeIdFieldCount(k, 0);
    const i1 = k == KIND_FWD ? 0 : typeIdFieldCount(k, 1);
    const elemId = i1 > i0;
    fits = fits && i0 <= 2 && i1 - i0 <= 1;
    if (i0 > 0) { rowSet(k, L_FIX0, <u32>typeIdFieldAddr(0, k, 0)); rowSet(k, L_M0, 0xffffffff); }
    if (i0 > 1) rowSet(k, L_FIX1, <u32>typeIdFieldAddr(0, k, 1));
    if (elemId) {
      rowSet(k, L_EID, <u32>typeIdFieldAddr(0, k, i0));
      fits = fits && <u32>(typeIdFieldAddr(0, k, i0 + 1) - typeIdFieldAddr(0, k, i0)) == elem;
    }
    const chain = isChainKind(k);
    if (chain) fits = fits && i0 >= 1 && <u32>chainRefAddr(0, k) == rowGet(row(k), L_FIX0);
    let shape = SH_GENERIC;
    if (fits) {
      if (!elemStr && !elemId) {
        if (i0 == 0) shape = chain ? SH_GENERIC : SH_NAME;
        else if (i0 == 1) shape = k == KIND_FUNC ? SH_FUNC : chain ? SH_CHAIN : SH_REF;
        else shape = chain ? SH_CHAIN2 : SH_GENERIC;
      } else if (!chain && k != KIND_FUNC && i0 <= 1) {
        if (elemStr && elemId) shape = SH_ELEM_NAME_REF;
        else if (elemStr && i0 == 0) shape = SH_ELEM_NAME;
        else if (elemId && i0 == 0) shape = SH_ELEM_REF;
      }
    }
    rowSet(k, L_SHAPE, shape);
  }
  layoutReady = true;
}

function parseTypes(btf: Btf, fileOff: u32, sum: WalkSummary): bool {
  if (!layoutReady) buildLayoutTable();
  const typeLen = btf.typeLen;
  const types = btf.types;
  const secOff = fileOff + btf.hdrLen + btf.typeOff;
  const wide = btf.wide;
  const kindMask = infoKind(0xffffffff, wide); // infoKind/infoVlen as masks, hoisted
  const vlenMask = infoVlen(0xffffffff, wide);
  const swap = btf.bigEndian;
  const startId = btf.startId;
  const base = btf.base;
  // The index grows geometrically from an estimate (libbpf grows its
  // type_offs the same way), then is trimmed to the count: typeLen / 12,
  // the bound, would be twice the need on real BTF (about 25 bytes a record).
  const bound: u32 = typeLen / COMMON_LEN + 1;
  let cap: u32 = min<u32>(bound, typeLen / 24 + 16);
  let index = heap.alloc(<usize>cap << 2);
  btf.index = index;
  let off: u32 = 0;
  let n: u32 = 0;
  let maxStr: u32 = 0;
  let maxRef: u32 = 0;
  let needFullPass = false;
  while (off < typeLen) {
    const id = startId + n;
    btf.count = n; // on failure: the types indexed so far (the kernel level checks their meta)
    if (typeLen - off < COMMON_LEN)
      return fail(Err.TRUNCATED, secOff + off, id, "type [" + id.toString() + "] record truncated: " + (typeLen - off).toString() + " bytes left of 12");
    const p = types + off;
    if (swap) swapWords(p, 3);
    const info = load<u32>(p, T_INFO);
    const kind = (info >> 24) & kindMask;
    const vlen = info & vlenMask;
    const r = row(kind);
    const shape = rowGet(r, L_SHAPE);
    // u32 is enough: vlen < 2^24 and elements are at most 12 bytes.
    let tl: u32;
    if (shape != SH_UNKNOWN) {
      tl = rowGet(r, L_FIXED) + vlen * rowGet(r, L_ELEM);
    } else {
      const lt = layoutTrailing(btf, kind, vlen);
      if (lt < 0) return fail(Err.UNKNOWN_KIND, secOff + off + T_INFO, id, "type [" + id.toString() + "] has unknown kind " + kind.toString() + (btf.layout == 0 ? " (no layout section to skip it)" : " (not described by the layout section)"));
      tl = lt > <i64>typeLen ? typeLen : <u32>lt; // too long either way: the check below rejects it
    }
    const recLen = COMMON_LEN + tl;
    if (recLen > typeLen - off)
      return fail(Err.BAD_TYPE_LEN, secOff + off, id, "type [" + id.toString() + "] " + kindName(kind) + " with vlen " + vlen.toString() + " runs past the end of the type section");
    if (swap) swapRest(p, kind, vlen, tl);
    if (n == cap) {
      cap = min<u32>(bound, cap + (cap >> 1) + 16);
      index = heap.realloc(index, <usize>cap << 2);
      btf.index = index;
    }
    store<u32>(index + (<usize>n << 2), off);

    // Names and references, as btf_validate_type reads them.
    maxStr = max<u32>(maxStr, load<u32>(p, T_NAME));
    switch (shape) {
      case SH_NAME: break;
      case SH_REF:
        maxRef = max<u32>(maxRef, load<u32>(p + <usize>rowGet(r, L_FIX0)));
        break;
      case SH_CHAIN: {
        const t = load<u32>(p + <usize>rowGet(r, L_FIX0));
        maxRef = max<u32>(maxRef, t);
        // A chain edge to an id >= its own: the only places a loop can close.
        if (t >= id) sum.pushFwd(id);
        break;
      }
      case SH_FUNC: {
        const t = load<u32>(p + <usize>rowGet(r, L_FIX0));
        maxRef = max<u32>(maxRef, t);
        // btf_validate_type: a FUNC's type must be a FUNC_PROTO. A target
        // not indexed yet is checked after the walk (builders, distill
        // among them, put the protos FUNCs need after the FUNCs).
        if (t == 0) needFullPass = true;
        else if (t >= id) sum.laterFuncs.push(id);
        else {
          const tk = t >= startId ? infoKind(load<u32>(types + <usize>load<u32>(index + (<usize>(t - startId) << 2)), T_INFO), wide) : base!.kind(t);
          needFullPass |= tk != KIND_FUNC_PROTO;
        }
        break;
      }
      case SH_CHAIN2: {
        const t = load<u32>(p + <usize>rowGet(r, L_FIX0));
        maxRef = max<u32>(maxRef, max<u32>(t, load<u32>(p + <usize>rowGet(r, L_FIX1))));
        if (t >= id) sum.pushFwd(id);
        break;
      }
      case SH_ELEM_NAME_REF: {
        maxRef = max<u32>(maxRef, load<u32>(p + <usize>rowGet(r, L_FIX0)) & rowGet(r, L_M0));
        const elem = <usize>rowGet(r, L_ELEM);
        let q = p + <usize>rowGet(r, L_ESTR);
        const d = <usize>(rowGet(r, L_EID) - rowGet(r, L_ESTR)); // may wrap: address arithmetic is modular
        for (let i: u32 = 0; i < vlen; i++, q += elem) {
          maxStr = max<u32>(maxStr, load<u32>(q));
          maxRef = max<u32>(maxRef, load<u32>(q + d));
        }
        break;
      }
      case SH_ELEM_NAME: {
        const elem = <usize>rowGet(r, L_ELEM);
        let q = p + <usize>rowGet(r, L_ESTR);
        for (let i: u32 = 0; i < vlen; i++, q += elem) maxStr = max<u32>(maxStr, load<u32>(q));
        break;
      }
      case SH_ELEM_REF: {
        const elem = <usize>rowGet(r, L_ELEM);
        let q = p + <usize>rowGet(r, L_EID);
        for (let i: u32 = 0; i < vlen; i++, q += elem) maxRef = max<u32>(maxRef, load<u32>(q));
        break;
      }
      case SH_GENERIC:
        genericFields(p, kind, vlen, sum);
        break;
      default: break; // SH_UNKNOWN: skipped through the layout section, never validated
    }
    n++;
    off += recLen;
  }
  btf.count = n;
  // Trim the index to the count (in place: the allocator splits the block).
  btf.index = heap.realloc(index, <usize>max<u32>(n, 1) << 2);
  // FUNCs whose target came later: now indexed, or past the end (the full pass reports it).
  const later = sum.laterFuncs;
  for (let i: u32 = 0; i < later.len && !needFullPass; i++) {
    const t = load<u32>(btf.ownRec(later.get(i)), T_SIZE);
    needFullPass = t >= startId + n || infoKind(load<u32>(btf.ownRec(t), T_INFO), wide) != KIND_FUNC_PROTO;
  }
  if (<u64>startId + n > 0xffffffff) return fail(Err.TOO_MANY_TYPES, secOff, 0, "too many types");
  sum.maxStrOff = max<u32>(sum.maxStrOff, maxStr);
  sum.maxRefId = max<u32>(sum.maxRefId, maxRef);
  sum.needFullPass = sum.needFullPass || needFullPass;
  return true;
}

/** The field visitor itself, for a kind whose fields the table cannot describe. */
function genericFields(p: usize, kind: u32, vlen: u32, sum: WalkSummary): void {
  sum.needFullPass = true; // FUNC and loop checks for such a kind are the full pass's
  const ns = strFieldCount(kind, vlen);
  for (let i: u32 = 0; i < ns; i++) sum.maxStrOff = max<u32>(sum.maxStrOff, load<u32>(strFieldAddr(p, kind, i)));
  if (kind == KIND_FWD) return;
  const ni = typeIdFieldCount(kind, vlen);
  for (let i: u32 = 0; i < ni; i++) sum.maxRefId = max<u32>(sum.maxRefId, load<u32>(typeIdFieldAddr(p, kind, i)));
}

/** libbpf btf_bswap_type_rest: swap the kind-specific words after the common record. */
function swapRest(p: usize, kind: u32, vlen: u32, tl: u32): void {
  const q = p + COMMON_LEN;
  switch (kind) {
    case KIND_INT: case KIND_VAR: case KIND_DECL_TAG: swapWords(q, 1); break;
    case KIND_ARRAY: swapWords(q, 3); break;
    case KIND_STRUCT: case KIND_UNION: swapWords(q, vlen * 3); break;
    case KIND_ENUM: swapWords(q, vlen * 2); break;
    case KIND_ENUM64: swapWords(q, vlen * 3); break;
    case KIND_FUNC_PROTO: swapWords(q, vlen * 2); break;
    case KIND_DATASEC: swapWords(q, vlen * 3); break;
    default: swapWords(q, tl >> 2); break; // unknown kind: assume u32 words
  }
}
