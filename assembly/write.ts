// The writer side: a builder in the spirit of libbpf's btf__add_* (one call
// per kind, string dedup with base-first lookup as btf__add_str), and
// serialisation of a Btf to raw bytes in either byte order (btf_get_raw_data).

import { Btf } from "./btf";
import { Err, fail } from "./errors";
import { ByteSink } from "./sink";
import { StrSet, StrIndex } from "./strings";
import { bswap16, cstrHash, swapWords } from "./bytes";
import {
  COMMON_LEN, HDR_LEN_CLASSIC, HDR_LEN_LAYOUT, KIND_ARRAY, KIND_DATASEC,
  KIND_DECL_TAG, KIND_ENUM, KIND_ENUM64, KIND_FLOAT, KIND_FUNC, KIND_FUNC_PROTO,
  KIND_FWD, KIND_INT, KIND_PTR, KIND_STRUCT, KIND_TYPEDEF, KIND_TYPE_TAG, KIND_UNION,
  KIND_VAR, KIND_MAX, T_INFO, infoKind, infoVlen, makeInfo, trailingLen,
} from "./format";
import { parseBtf, writeHeader, LEVEL_LIBBPF } from "./parse";

/** Builds a new BTF, optionally split on `base`. */
export class BtfBuilder {
  base: Btf | null;
  types: ByteSink = new ByteSink(4096);
  /** Offsets of each record in `types`, for in-place edits (vlen, ids). */
  offs: ByteSink = new ByteSink(1024);
  strs: StrSet;
  count: u32 = 0;
  startId: u32;
  startStrOff: u32;
  /** Record offset of the type that add*Member/Value/Param appends to. */
  private last: i64 = -1;

  constructor(base: Btf | null) {
    this.base = base;
    this.startId = base === null ? 1 : base.typeCnt();
    this.startStrOff = base === null ? 0 : base.strEnd();
    // A fresh base starts with "\0"; a fresh split with an empty section (btf_new_empty).
    this.strs = new StrSet(base === null);
  }

  typeCnt(): u32 { return this.startId + this.count; }

  /**
   * Size the buffers for an expected output before adding anything, so big
   * outputs (distill of a large module) neither regrow nor rehash the string
   * table repeatedly. Only a hint: the builder still grows past it.
   */
  reserve(types: u32, typeBytes: u32, strings: u32, strBytes: u32): void {
    this.types.reserve(typeBytes);
    this.offs.reserve(types << 2);
    const strs = this.strs;
    if (strs.len > 1) return; // only the initial "" may be there
    strs.data.reserve(strBytes);
    strs.index.dispose();
    strs.index = new StrIndex(strs.data.ptr, strings);
    if (strs.len == 1) strs.index.insert(0);
  }

  /** libbpf btf__add_str: "" is 0; the base chain is searched first; else dedup in our set. */
  addStr(p: usize): u32 {
    if (load<u8>(p) == 0) return 0;
    const h = cstrHash(p);
    if (this.base !== null) {
      const r = this.base!.findStrHashed(p, h);
      if (r >= 0) return <u32>r;
    }
    return this.startStrOff + this.strs.addHashed(p, h);
  }

  /** Look a string up without adding it (btf__find_str). */
  findStr(p: usize): i64 {
    if (load<u8>(p) == 0) return 0;
    if (this.base !== null) {
      const r = this.base!.findStr(p);
      if (r >= 0) return r;
    }
    const l = this.strs.find(p);
    return l < 0 ? -1 : l + <i64>this.startStrOff;
  }

  /** Address of the string at a global offset (base chain or our own set). */
  strAt(off: u32): usize {
    if (off < this.startStrOff) return this.base!.str(off);
    return this.strs.data.ptr + (off - this.startStrOff);
  }

  /** Start a new record; returns its id. */
  private begin(nameOff: u32, info: u32, sizeOrType: u32): u32 {
    const off = this.types.len;
    this.offs.u32le(off);
    this.types.u32le(nameOff);
    this.types.u32le(info);
    this.types.u32le(sizeOrType);
    this.last = off;
    return this.startId + this.count++;
  }

  /** Address of the record of an id added here (valid until the next add). */
  recOf(id: u32): usize {
    return this.types.ptr + load<u32>(this.offs.ptr + (<usize>(id - this.startId) << 2));
  }

  /** Append a raw record (common part + trailing) copied from `p`; ids/strings are the caller's. */
  addRaw(p: usize, len: u32): u32 {
    const off = this.types.len;
    this.offs.u32le(off);
    this.types.bytes(p, len);
    this.last = off;
    return this.startId + this.count++;
  }

  addInt(nameOff: u32, size: u32, encoding: u32, bits: u32, offset: u32): u32 {
    const id = this.begin(nameOff, makeInfo(KIND_INT, 0, false), size);
    this.types.u32le((encoding << 24) | (offset << 16) | bits);
    return id;
  }
  addFloat(nameOff: u32, size: u32): u32 { return this.begin(nameOff, makeInfo(KIND_FLOAT, 0, false), size); }
  addRef(kind: u32, nameOff: u32, type: u32, kflag: bool): u32 { return this.begin(nameOff, makeInfo(kind, 0, kflag), type); }
  addPtr(type: u32): u32 { return this.addRef(KIND_PTR, 0, type, false); }
  addTypedef(nameOff: u32, type: u32): u32 { return this.addRef(KIND_TYPEDEF, nameOff, type, false); }
  addFwd(nameOff: u32, isUnion: bool): u32 { return this.begin(nameOff, makeInfo(KIND_FWD, 0, isUnion), 0); }
  addFunc(nameOff: u32, proto: u32, linkage: u32): u32 { return this.begin(nameOff, makeInfo(KIND_FUNC, linkage, false), proto); }
  addTypeTag(nameOff: u32, type: u32, kflag: bool): u32 { return this.addRef(KIND_TYPE_TAG, nameOff, type, kflag); }
  addArray(elem: u32, index: u32, nelems: u32): u32 {
    const id = this.begin(0, makeInfo(KIND_ARRAY, 0, false), 0);
    this.types.u32le(elem);
    this.types.u32le(index);
    this.types.u32le(nelems);
    return id;
  }
  /** STRUCT/UNION/ENUM/ENUM64/FUNC_PROTO/DATASEC start with vlen 0; members bump it. */
  addComposite(kind: u32, nameOff: u32, size: u32, kflag: bool): u32 { return this.begin(nameOff, makeInfo(kind, 0, kflag), size); }
  addVar(nameOff: u32, type: u32, linkage: u32): u32 {
    const id = this.begin(nameOff, makeInfo(KIND_VAR, 0, false), type);
    this.types.u32le(linkage);
    return id;
  }
  addDeclTag(nameOff: u32, type: u32, componentIdx: i32, kflag: bool): u32 {
    const id = this.begin(nameOff, makeInfo(KIND_DECL_TAG, 0, kflag), type);
    this.types.u32le(<u32>componentIdx);
    return id;
  }

  /** Append one vlen element (member, enumerator, param, var_secinfo) to the last type. */
  addElem(w0: u32, w1: u32, w2: u32): bool {
    if (this.last < 0) return fail(Err.USAGE, -1, 0, "no type to add a member to");
    const p = this.types.ptr + <usize>this.last;
    const info = load<u32>(p, T_INFO);
    const kind = infoKind(info, false);
    const vlen = infoVlen(info, false);
    if (vlen >= 0xffff) return fail(Err.BAD_VLEN, -1, this.typeCnt() - 1, "too many members");
    switch (kind) {
      case KIND_STRUCT: case KIND_UNION: case KIND_ENUM64: case KIND_DATASEC:
        this.types.u32le(w0); this.types.u32le(w1); this.types.u32le(w2); break;
      case KIND_ENUM: case KIND_FUNC_PROTO:
        this.types.u32le(w0); this.types.u32le(w1); break;
      default:
        return fail(Err.USAGE, -1, this.typeCnt() - 1, "the last type takes no members");
    }
    // The sink may have moved while growing.
    const q = this.types.ptr + <usize>this.last;
    store<u32>(q, info + 1, T_INFO);
    return true;
  }

  /** Set kind_flag on the last type (bitfield members, signed enums). */
  setLastKflag(on: bool): void {
    if (this.last < 0) return;
    const q = this.types.ptr + <usize>this.last;
    const info = load<u32>(q, T_INFO);
    store<u32>(q, on ? info | 0x80000000 : info & 0x7fffffff, T_INFO);
  }

  /**
   * Append the raw blob (24-byte header with type_off 0, types, strings) to
   * `out`, as libbpf's btf__raw_data of a BTF built from btf__new_empty.
   */
  writeTo(out: ByteSink): void {
    const typeLen = this.types.len;
    const strLen = this.strs.len;
    out.reserve(HDR_LEN_CLASSIC + typeLen + strLen);
    writeHeader(out.ptr + out.len, HDR_LEN_CLASSIC, 0, typeLen, 0, strLen);
    out.len += HDR_LEN_CLASSIC;
    out.bytes(this.types.ptr, typeLen);
    out.bytes(this.strs.data.ptr, strLen);
  }

  /** Assemble the blob (24-byte header, types, strings) and parse it. */
  finish(): Btf | null {
    const typeLen = this.types.len;
    const strLen = this.strs.len;
    const total = HDR_LEN_CLASSIC + typeLen + strLen;
    const mem = heap.alloc(total);
    writeHeader(mem, HDR_LEN_CLASSIC, 0, typeLen, 0, strLen);
    memory.copy(mem + HDR_LEN_CLASSIC, this.types.ptr, typeLen);
    memory.copy(mem + HDR_LEN_CLASSIC + typeLen, this.strs.data.ptr, strLen);
    const btf = parseBtf(mem, total, mem, this.base, LEVEL_LIBBPF, 0);
    if (btf === null) heap.free(mem);
    return btf;
  }

  dispose(): void {
    this.types.dispose();
    this.offs.dispose();
    this.strs.dispose();
  }
}

/**
 * Serialise a Btf's own part: header, types, [layout], strings, with
 * type_off 0 as libbpf's btf_get_raw_data. `hdrLen` 0 keeps the input's
 * header form. Records are swapped back for big-endian output.
 */
export function writeRaw(btf: Btf, sink: ByteSink, bigEndian: bool, hdrLen: u32): bool {
  if (hdrLen == 0) hdrLen = btf.hdrLen >= HDR_LEN_LAYOUT ? HDR_LEN_LAYOUT : HDR_LEN_CLASSIC;
  if (hdrLen != HDR_LEN_CLASSIC && hdrLen != HDR_LEN_LAYOUT) return fail(Err.USAGE, -1, 0, "header length must be 24 or 32");
  const keepLayout = hdrLen == HDR_LEN_LAYOUT && btf.layoutLen > 0;
  if (!keepLayout && btf.layoutLen > 0) {
    // Without a layout section, unknown kinds cannot be described.
    const cnt = btf.typeCnt();
    for (let id = btf.startId; id < cnt; id++) {
      const k = btf.recKind(btf.ownRec(id));
      if (k == 0 || k > KIND_MAX) return fail(Err.UNSUPPORTED, -1, id, "type [" + id.toString() + "] has a kind that only the layout section describes; write a 32-byte header");
    }
  }
  if (hdrLen == HDR_LEN_CLASSIC && btf.wide) {
    // The 24-byte form has 16 vlen bits and 5 kind bits: a record that needs
    // more would be written with its vlen cut and reserved bits set
    // (test/extremes.test.ts: a struct with vlen 0xffffff).
    const cnt = btf.typeCnt();
    for (let id = btf.startId; id < cnt; id++) {
      const info = load<u32>(btf.ownRec(id), T_INFO);
      if (infoVlen(info, true) > 0xffff || infoKind(info, true) > 0x1f)
        return fail(Err.UNSUPPORTED, -1, id, "type [" + id.toString() + "] has a vlen or kind only the 32-byte header's info profile holds; write a 32-byte header");
    }
  }
  const typeLen = btf.typeLen;
  const layoutLen: u32 = keepLayout ? btf.layoutLen : 0;
  const strLen = btf.strLen;
  const start = sink.len;
  sink.reserve(hdrLen + typeLen + layoutLen + strLen);
  writeHeader(sink.ptr + start, hdrLen, btf.flags, typeLen, layoutLen, strLen);
  sink.len += hdrLen;
  const typesAt = sink.len;
  sink.bytes(btf.types, typeLen);
  const layoutAt = sink.len;
  if (keepLayout) sink.bytes(btf.layout, layoutLen);
  sink.bytes(btf.strs, strLen);
  if (bigEndian) {
    const h = sink.ptr + start;
    store<u16>(h, <u16>bswap16(load<u16>(h)));
    swapWords(h + 4, (hdrLen - 4) >> 2);
    swapTypesToForeign(btf, sink.ptr + typesAt, typeLen);
    if (keepLayout) {
      for (let i: u32 = 0; i < layoutLen; i += 4) {
        const a = sink.ptr + layoutAt + i + 2;
        store<u16>(a, <u16>bswap16(load<u16>(a)));
      }
    }
  }
  return true;
}

/** Swap a native type section to the foreign order: the rest first, as it needs native info. */
function swapTypesToForeign(btf: Btf, p: usize, len: u32): void {
  let off: u32 = 0;
  while (off < len) {
    const r = p + off;
    const info = load<u32>(r, T_INFO);
    const kind = infoKind(info, btf.wide);
    const vlen = infoVlen(info, btf.wide);
    let tl = trailingLen(kind, vlen);
    if (tl < 0 || kind == 0) {
      const e = btf.layout + (<usize>kind << 2);
      tl = <i64>load<u8>(e) + <i64>vlen * <i64>load<u8>(e, 1);
    }
    swapWords(r + COMMON_LEN, <u32>tl >> 2);
    swapWords(r, 3);
    off += COMMON_LEN + <u32>tl;
  }
}
