// The core's exported surface. Each operation takes handles and pointers,
// returns a handle or a status, and leaves bytes in the result sink
// (handles.ts). On failure the error is in errors.ts. Feature modules add
// their exports under api/ and are re-exported at the bottom.

import { Btf } from "./btf";
import { Err, fail, clearError, lastErrorCode, lastErrorOffset, lastErrorTypeId, lastErrorMessage } from "./errors";
import { parseBtf } from "./parse";
import { validateKernel } from "./validate";
import { getBtf, putBtf, dropBtf, newResult, freeResult, resultPtr, resultLen } from "./handles";
import { writeRaw, BtfBuilder } from "./write";
import { dumpRaw, dumpRawType } from "./dump/raw";
import { dumpJson, dumpJsonType } from "./dump/json";
import { cstrcmp } from "./bytes";
import { T_INFO, infoKflag } from "./format";

export { resultPtr, resultLen, freeResult };

// ---- memory ------------------------------------------------------------

/** Allocate `len` bytes of unmanaged memory for the host to fill. */
export function memAlloc(len: u32): usize {
  return heap.alloc(len == 0 ? 1 : len);
}
export function memFree(ptr: usize): void { if (ptr != 0) heap.free(ptr); }

// ---- errors ------------------------------------------------------------

export function errCode(): i32 { return lastErrorCode(); }
export function errOffset(): f64 { return <f64>lastErrorOffset(); }
export function errTypeId(): u32 { return lastErrorTypeId(); }
/** The message goes to the result sink as UTF-8. */
export function errMessage(): u32 {
  const s = newResult(256);
  s.str(lastErrorMessage());
  return s.len;
}
export function errClear(): void { clearError(); }

// ---- parse & lifetime --------------------------------------------------

/**
 * Parse raw BTF from [ptr, ptr+len). With `own` the core takes the memory
 * (it must come from memAlloc) and frees it with the object; on failure the
 * memory stays the caller's. `base` is a handle or -1.
 * Returns a handle, or -1 on error.
 */
export function btfParse(ptr: usize, len: u32, own: bool, base: i32, level: i32, fileOff: u32): i32 {
  clearError();
  let b: Btf | null = null;
  if (base >= 0) {
    b = getBtf(base);
    if (b === null) return -1;
  }
  const btf = parseBtf(ptr, len, own ? ptr : 0, b, level, fileOff);
  if (btf === null) return -1;
  return putBtf(btf);
}

/** Run the kernel-level checks on an already parsed object. */
export function btfValidateKernel(h: i32): bool {
  clearError();
  const btf = getBtf(h);
  if (btf === null) return false;
  return validateKernel(btf, 0);
}

/**
 * Release a handle. A full collection follows (well under a microsecond on
 * the core's few managed objects): the small Btf object sits right after
 * its blob in the heap, and until it is collected the freed blob cannot
 * merge with its neighbours, so the next parse of the same size would grow
 * memory again instead of reusing it.
 */
export function btfFree(h: i32): void {
  dropBtf(h);
  __collect();
}

// ---- header & counts -----------------------------------------------------

export function btfTypeCnt(h: i32): u32 { const b = getBtf(h); return b === null ? 0 : b.typeCnt(); }
export function btfStartId(h: i32): u32 { const b = getBtf(h); return b === null ? 0 : b.startId; }
export function btfStartStrOff(h: i32): u32 { const b = getBtf(h); return b === null ? 0 : b.startStrOff; }
export function btfHdrLen(h: i32): u32 { const b = getBtf(h); return b === null ? 0 : b.hdrLen; }
export function btfTypeLen(h: i32): u32 { const b = getBtf(h); return b === null ? 0 : b.typeLen; }
export function btfStrLen(h: i32): u32 { const b = getBtf(h); return b === null ? 0 : b.strLen; }
export function btfLayoutLen(h: i32): u32 { const b = getBtf(h); return b === null ? 0 : b.layoutLen; }
export function btfBigEndian(h: i32): bool { const b = getBtf(h); return b === null ? false : b.bigEndian; }
export function btfFlags(h: i32): u32 { const b = getBtf(h); return b === null ? 0 : b.flags; }
export function btfPtrSize(h: i32): i32 { const b = getBtf(h); return b === null ? -1 : b.ptrSize(); }

/** Counts per kind into the result sink: 32 u32 slots, index = kind. */
export function btfKindCounts(h: i32): bool {
  const b = getBtf(h);
  if (b === null) return false;
  const s = newResult(128);
  s.reserve(128);
  memory.fill(s.ptr, 0, 128);
  s.len = 128;
  const cnt = b.typeCnt();
  for (let id = b.startId; id < cnt; id++) {
    const k = b.recKind(b.ownRec(id));
    const a = s.ptr + (<usize>(k < 32 ? k : <u32>0) << 2);
    store<u32>(a, load<u32>(a) + 1);
  }
  return true;
}

// ---- type access (light views on the host read records in place) -------

/** Address of the 12-byte record of `id` (valid until the object is freed); 0 if out of range. */
export function typeRec(h: i32, id: u32): usize {
  const b = getBtf(h);
  if (b === null || id >= b.typeCnt()) return 0;
  return b.rec(id);
}
export function typeKind(h: i32, id: u32): u32 { const b = getBtf(h); return b === null || id >= b.typeCnt() ? 0 : b.kind(id); }
export function typeVlen(h: i32, id: u32): u32 { const b = getBtf(h); return b === null || id >= b.typeCnt() ? 0 : b.vlen(id); }
export function typeKflag(h: i32, id: u32): bool {
  const b = getBtf(h);
  return b === null || id >= b.typeCnt() ? false : infoKflag(load<u32>(b.rec(id), T_INFO));
}
/** Address of the string at `off`, or 0 if out of range. */
export function strAt(h: i32, off: u32): usize {
  const b = getBtf(h);
  if (b === null || !b.strValid(off)) return 0;
  return b.str(off);
}
/** btf__resolve_size with a pointer size (0: the BTF's own, else 8). */
export function typeResolveSize(h: i32, id: u32, ptrSize: i32): f64 {
  const b = getBtf(h);
  if (b === null || id >= b.typeCnt()) return -1;
  if (ptrSize <= 0) { ptrSize = b.ptrSize(); if (ptrSize <= 0) ptrSize = 8; }
  return <f64>b.resolveSize(id, ptrSize);
}

/**
 * Find types by name (C string at `name`) and kind (0 = any), starting after
 * `after`. Returns the next matching id or 0. The host loops for all matches.
 */
export function btfFindNext(h: i32, name: usize, kind: u32, after: u32): u32 {
  const b = getBtf(h);
  if (b === null || load<u8>(name) == 0) return 0;
  return b.findNext(name, kind, after);
}

// ---- dumps & writing ----------------------------------------------------

/** bpftool raw text of all own types (or one id when `id` > 0) into the result. */
export function dumpRawText(h: i32, id: u32): bool {
  clearError();
  const b = getBtf(h);
  if (b === null) return false;
  if (id > 0) {
    if (id >= b.typeCnt()) return fail(Err.BAD_TYPE_ID, -1, id, "type id " + id.toString() + " out of range");
    const s = newResult(256);
    dumpRawType(b, s, id);
    return true;
  }
  const s = newResult(b.typeLen * 2 + 1024);
  dumpRaw(b, s);
  return true;
}

/** JSON of all own types (or one id when `id` > 0) into the result. */
export function dumpJsonText(h: i32, id: u32): bool {
  clearError();
  const b = getBtf(h);
  if (b === null) return false;
  if (id > 0) {
    if (id >= b.typeCnt()) return fail(Err.BAD_TYPE_ID, -1, id, "type id " + id.toString() + " out of range");
    const s = newResult(256);
    dumpJsonType(b, s, id);
    return true;
  }
  const s = newResult(b.typeLen * 3 + 1024);
  dumpJson(b, s);
  return true;
}

/** Serialise the own part to raw bytes in the result. hdrLen 0 keeps the input's form. */
export function writeRawBytes(h: i32, bigEndian: bool, hdrLen: u32): bool {
  clearError();
  const b = getBtf(h);
  if (b === null) return false;
  const s = newResult(b.size + 64);
  return writeRaw(b, s, bigEndian, hdrLen);
}

// ---- builder --------------------------------------------------------------

const builders = new Array<BtfBuilder | null>();

function getBuilder(h: i32): BtfBuilder | null {
  if (h < 0 || h >= builders.length || unchecked(builders[h]) === null) {
    fail(Err.BAD_HANDLE, -1, 0, "invalid builder handle " + h.toString());
    return null;
  }
  return unchecked(builders[h]);
}

export function builderNew(base: i32): i32 {
  clearError();
  let b: Btf | null = null;
  if (base >= 0) {
    b = getBtf(base);
    if (b === null) return -1;
    b.retain();
  }
  builders.push(new BtfBuilder(b));
  return builders.length - 1;
}

/** Add the C string at `p`; returns its offset (or -1). */
export function builderAddStr(h: i32, p: usize): i64 {
  const w = getBuilder(h);
  return w === null ? -1 : <i64>w.addStr(p);
}

/**
 * Add a type from its common words and kind-specific trailing word(s).
 * kind INT: extra = encoding<<24|offset<<16|bits; ARRAY: a,b,c = elem,index,nelems;
 * VAR: extra = linkage; DECL_TAG: extra = component_idx; others: size|type in `sizeOrType`.
 */
export function builderAddType(h: i32, kind: u32, nameOff: u32, sizeOrType: u32, kflag: bool, vlenOrLinkage: u32, a: u32, b: u32, c: u32): i64 {
  clearError();
  const w = getBuilder(h);
  if (w === null) return -1;
  switch (kind) {
    case 1: return <i64>w.addInt(nameOff, sizeOrType, (a >> 24) & 0xf, a & 0xff, (a >> 16) & 0xff);
    case 3: return <i64>w.addArray(a, b, c);
    case 4: case 5: case 6: case 19: case 13: case 15:
      return <i64>w.addComposite(kind, nameOff, sizeOrType, kflag);
    case 7: return <i64>w.addFwd(nameOff, kflag);
    case 12: return <i64>w.addFunc(nameOff, sizeOrType, vlenOrLinkage);
    case 14: return <i64>w.addVar(nameOff, sizeOrType, a);
    case 16: return <i64>w.addFloat(nameOff, sizeOrType);
    case 17: return <i64>w.addDeclTag(nameOff, sizeOrType, <i32>a, kflag);
    case 2: case 8: case 9: case 10: case 11: case 18:
      return <i64>w.addRef(kind, nameOff, sizeOrType, kflag);
    default:
      fail(Err.USAGE, -1, 0, "cannot add a type of kind " + kind.toString());
      return -1;
  }
}

/** Append a member/enumerator/param/var_secinfo to the last type added. */
export function builderAddElem(h: i32, w0: u32, w1: u32, w2: u32): bool {
  clearError();
  const w = getBuilder(h);
  return w === null ? false : w.addElem(w0, w1, w2);
}

export function builderSetKflag(h: i32, on: bool): void {
  const w = getBuilder(h);
  if (w !== null) w.setLastKflag(on);
}

export function builderTypeCnt(h: i32): u32 {
  const w = getBuilder(h);
  return w === null ? 0 : w.typeCnt();
}

/** Finish: parse the built blob into a new BTF handle and free the builder. */
export function builderFinish(h: i32): i32 {
  clearError();
  const w = getBuilder(h);
  if (w === null) return -1;
  const btf = w.finish();
  builderFree(h);
  return btf === null ? -1 : putBtf(btf);
}

export function builderFree(h: i32): void {
  if (h < 0 || h >= builders.length) return;
  const w = unchecked(builders[h]);
  if (w === null) return;
  if (w.base !== null) w.base!.release();
  w.dispose();
  unchecked(builders[h] = null);
}

export * from "./api/check";
export * from "./api/elf";
export * from "./api/transform";
export * from "./api/web";
export * from "./api/dedup";
export * from "./api/dumpc";
export * from "./api/zstd";
export * from "./api/limits";
export * from "./api/xz";
export * from "./api/core";
export * from "./api/mincore";
export * from "./api/diff";
