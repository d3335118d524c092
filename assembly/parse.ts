// Bytes -> Btf. Follows libbpf's btf_new(): btf_parse_hdr, btf_parse_str_sec,
// btf_parse_type_sec (with btf_bswap_* for foreign byte order), then
// validation (validate.ts) at the requested level. Every record is bounds
// checked here once, so accessors elsewhere may read without checks.

import { Btf } from "./btf";
import { Err, fail } from "./errors";
import { bswap16, bswap32, swapWords } from "./bytes";
import {
  BTF_MAGIC, BTF_MAGIC_SWAPPED, COMMON_LEN, HDR_LEN_CLASSIC, HDR_LEN_LAYOUT,
  H_FLAGS, H_HDR_LEN, H_LAYOUT_LEN, H_LAYOUT_OFF, H_STR_LEN, H_STR_OFF, H_TYPE_LEN,
  H_TYPE_OFF, H_VERSION, KIND_ARRAY, KIND_DATASEC, KIND_DECL_TAG, KIND_ENUM,
  KIND_ENUM64, KIND_FUNC_PROTO, KIND_INT, KIND_STRUCT, KIND_UNION, KIND_VAR,
  T_INFO, infoKind, infoVlen, trailingLen, kindName,
} from "./format";
import { validateLibbpf, validateKernel } from "./validate";

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
  if (!parseHeader(btf, level, fileOff) || !parseStrings(btf, level, fileOff) ||
      !parseTypes(btf, fileOff) || (level != LEVEL_KERNEL_LOAD && !validateLibbpf(btf, fileOff)) ||
      (level >= LEVEL_KERNEL && !validateKernel(btf, fileOff))) {
    btf.owned = 0; // the caller still owns the memory on failure
    btf.release();
    return null;
  }
  return btf;
}

function parseHeader(btf: Btf, level: i32, fileOff: u32): bool {
  const mem = btf.mem;
  const size = btf.size;
  if (size < 2) return fail(Err.TRUNCATED, fileOff + size, 0, "BTF data too short for the magic (" + size.toString() + " bytes)");
  const magic = <u32>load<u16>(mem);
  if (magic == BTF_MAGIC_SWAPPED) btf.bigEndian = true;
  else if (magic != BTF_MAGIC) return fail(Err.BAD_MAGIC, fileOff, 0, "bad BTF magic 0x" + magic.toString(16) + " (want 0xeb9f)");
  if (size < 4) return fail(Err.TRUNCATED, fileOff + size, 0, "BTF header truncated at byte " + size.toString() + " (in version/flags)");
  btf.version = load<u8>(mem + H_VERSION);
  btf.flags = load<u8>(mem + H_FLAGS);
  if (btf.version != 1) return fail(Err.BAD_VERSION, fileOff + H_VERSION, 0, "unsupported BTF version " + btf.version.toString());
  if (level >= LEVEL_KERNEL && btf.flags != 0) return fail(Err.BAD_FLAGS, fileOff + H_FLAGS, 0, "non-zero BTF header flags 0x" + btf.flags.toString(16));
  if (size < 8) return fail(Err.TRUNCATED, fileOff + size, 0, "BTF header truncated at byte " + size.toString() + " (in hdr_len)");
  let hdrLen = load<u32>(mem + H_HDR_LEN);
  if (btf.bigEndian) hdrLen = bswap32(hdrLen);
  if (hdrLen < HDR_LEN_CLASSIC) return fail(Err.BAD_HEADER, fileOff + H_HDR_LEN, 0, "hdr_len " + hdrLen.toString() + " is below 24");
  if (size < HDR_LEN_CLASSIC) return fail(Err.TRUNCATED, fileOff + size, 0, "BTF header truncated at byte " + size.toString() + " of 24");
  if (<u64>hdrLen > <u64>size) return fail(Err.TRUNCATED, fileOff + size, 0, "hdr_len " + hdrLen.toString() + " runs past the end of the data (" + size.toString() + " bytes)");
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

@inline function overlap(o1: u32, l1: u32, o2: u32, l2: u32): bool {
  if (l1 == 0 || l2 == 0) return false;
  return <u64>o1 < <u64>o2 + l2 && <u64>o2 < <u64>o1 + l1;
}

function parseStrings(btf: Btf, level: i32, fileOff: u32): bool {
  const off = fileOff + btf.hdrLen + btf.strOff;
  const len = btf.strLen;
  const p = btf.strs;
  if (btf.base === null) {
    // libbpf btf_parse_str_sec / kernel btf_parse_str_sec for base BTF.
    if (len == 0) return fail(Err.BAD_STRINGS, off, 0, "empty string section in base BTF");
    if (load<u8>(p) != 0) return fail(Err.BAD_STRINGS, off, 0, "string section does not start with a NUL byte (split BTF given without its base?)");
  } else if (len == 0) {
    return true;
  }
  if (load<u8>(p + len - 1) != 0) return fail(Err.BAD_STRINGS, off + len - 1, 0, "string section is not NUL-terminated");
  const maxOff: u32 = level >= LEVEL_KERNEL ? 0xffffff : 0x7fffffff;
  if (len - 1 > maxOff) return fail(Err.BAD_STRINGS, off, 0, "string section too large (" + len.toString() + " bytes)");
  if (<u64>btf.startStrOff + len > 0xffffffff) return fail(Err.BAD_STRINGS, off, 0, "string offsets overflow 32 bits");
  return true;
}

/** Trailing length for `kind` from the layout section (2026), or -1. */
function layoutTrailing(btf: Btf, kind: u32, vlen: u32): i64 {
  if (btf.layout == 0 || (<u64>kind + 1) * 4 > <u64>btf.layoutLen) return -1;
  const e = btf.layout + (<usize>kind << 2);
  const infoSz = <i64>load<u8>(e);
  const elemSz = <i64>load<u8>(e, 1);
  return infoSz + <i64>vlen * elemSz;
}

function parseTypes(btf: Btf, fileOff: u32): bool {
  const typeLen = btf.typeLen;
  const types = btf.types;
  const secOff = fileOff + btf.hdrLen + btf.typeOff;
  // Upper bound on the number of records: one per 12 bytes.
  const maxCount = typeLen / COMMON_LEN + 1;
  btf.index = heap.alloc(<usize>maxCount << 2);
  const index = btf.index;
  const wide = btf.wide;
  const swap = btf.bigEndian;
  let off: u32 = 0;
  let n: u32 = 0;
  while (off < typeLen) {
    const id = btf.startId + n;
    if (typeLen - off < COMMON_LEN)
      return fail(Err.TRUNCATED, secOff + off, id, "type [" + id.toString() + "] record truncated: " + (typeLen - off).toString() + " bytes left of 12");
    const p = types + off;
    if (swap) swapWords(p, 3);
    const info = load<u32>(p, T_INFO);
    const kind = infoKind(info, wide);
    const vlen = infoVlen(info, wide);
    let tl = trailingLen(kind, vlen);
    if (tl < 0 || kind == 0) {
      tl = layoutTrailing(btf, kind, vlen);
      if (tl < 0) return fail(Err.UNKNOWN_KIND, secOff + off + T_INFO, id, "type [" + id.toString() + "] has unknown kind " + kind.toString() + (btf.layout == 0 ? " (no layout section to skip it)" : " (not described by the layout section)"));
    }
    const recLen = <u64>COMMON_LEN + <u64>tl;
    if (<u64>off + recLen > <u64>typeLen)
      return fail(Err.BAD_TYPE_LEN, secOff + off, id, "type [" + id.toString() + "] " + kindName(kind) + " with vlen " + vlen.toString() + " runs past the end of the type section");
    if (swap) swapRest(p, kind, vlen, <u32>tl);
    store<u32>(index + (<usize>n << 2), off);
    n++;
    off += <u32>recLen;
  }
  btf.count = n;
  if (<u64>btf.startId + n > 0xffffffff) return fail(Err.TOO_MANY_TYPES, secOff, 0, "too many types");
  return true;
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
