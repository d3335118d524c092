// The BTF model: the raw blob (normalised to little-endian, the wasm host
// order) plus an index from type id to record offset. There is never one
// object per type; accessors read the record words in place. A split BTF
// points at its base: ids below `startId` and string offsets below
// `startStrOff` are looked up there, exactly as libbpf and the kernel do.

import {
  COMMON_LEN, KIND_INT, T_INFO, T_NAME, T_SIZE, infoKflag, infoKind, infoVlen,
  KIND_TYPEDEF, KIND_VOLATILE, KIND_CONST, KIND_RESTRICT, KIND_TYPE_TAG,
  KIND_PTR, KIND_ARRAY, KIND_STRUCT, KIND_UNION, KIND_ENUM, KIND_ENUM64,
  KIND_FLOAT, KIND_DATASEC, KIND_VAR, KIND_DECL_TAG, MAX_RESOLVE_DEPTH,
} from "./format";
import { cstrEqLit, cstrHash } from "./bytes";
import { StrIndex, indexSection } from "./strings";
import { NameIndex } from "./names";

/**
 * An index that an algorithm builds on demand over a Btf and keeps with it
 * (relocate's name index of a new base), freed when the Btf is. Subclasses
 * override dispose; `tag` tells kinds of index apart.
 */
export class BtfIndex {
  next: BtfIndex | null = null;
  constructor(public tag: i32) {}
  dispose(): void {}
}

/** A zeroed record standing for id 0 (VOID), so lookups of 0 need no branch. */
const VOID_REC: usize = memory.data(16);

export class Btf {
  /** Address of the header; the blob is [mem, mem+size). */
  mem: usize = 0;
  size: u32 = 0;
  /** Heap memory to free on dispose (0 when the blob is borrowed). */
  owned: usize = 0;

  hdrLen: u32 = 24;
  version: u32 = 1;
  flags: u32 = 0;
  typeOff: u32 = 0;
  typeLen: u32 = 0;
  strOff: u32 = 0;
  strLen: u32 = 0;
  layoutOff: u32 = 0;
  layoutLen: u32 = 0;
  /** The input's byte order was big-endian (the blob was swapped to native). */
  bigEndian: bool = false;
  /** 2026 profile: 24-bit vlen and 7-bit kind (32-byte header). */
  wide: bool = false;

  /** Address of the type section and of the string section. */
  types: usize = 0;
  strs: usize = 0;
  /** Address of the layout section, or 0. */
  layout: usize = 0;

  /** u32 per own type: record offset from `types`. */
  index: usize = 0;
  count: u32 = 0;
  startId: u32 = 1;
  startStrOff: u32 = 0;
  base: Btf | null = null;

  /** Lazily built map from string contents to offsets (own section only). */
  strIndex: StrIndex | null = null;
  /** Lazily built index of own type names (names.ts). */
  names: NameIndex | null = null;
  /** Pointer size guessed from the types (libbpf determine_ptr_size), -1 when unknown. */
  ptrSizeCache: i32 = -2;
  refs: i32 = 1;
  /** Indexes cached on this object (see BtfIndex). */
  indexes: BtfIndex | null = null;

  /** The cached index with this tag, or null. */
  findIndex(tag: i32): BtfIndex | null {
    let ix = this.indexes;
    while (ix !== null) {
      if (ix.tag == tag) return ix;
      ix = ix.next;
    }
    return null;
  }

  addIndex(ix: BtfIndex): void {
    ix.next = this.indexes;
    this.indexes = ix;
  }

  /** libbpf btf__type_cnt: one past the last id. */
  @inline typeCnt(): u32 { return this.startId + this.count; }

  /** End of the string id space: offsets below this are valid names. */
  @inline strEnd(): u32 { return this.startStrOff + this.strLen; }

  /** The object that owns `id` (this or a base). */
  owner(id: u32): Btf {
    let b: Btf = this;
    while (id < b.startId && b.base !== null) b = b.base!;
    return b;
  }

  /** Address of the 12-byte record of `id` (0 gives a zeroed VOID record). */
  rec(id: u32): usize {
    if (id == 0) return VOID_REC;
    let b: Btf = this;
    while (id < b.startId) b = b.base!;
    return b.types + <usize>load<u32>(b.index + (<usize>(id - b.startId) << 2));
  }

  /** Record address for an own type, no chain walk. */
  @inline ownRec(id: u32): usize {
    return this.types + <usize>load<u32>(this.index + (<usize>(id - this.startId) << 2));
  }

  @inline info(id: u32): u32 { return load<u32>(this.rec(id), T_INFO); }
  kind(id: u32): u32 {
    if (id == 0) return 0;
    const b = this.owner(id);
    return infoKind(load<u32>(b.ownRec(id), T_INFO), b.wide);
  }
  vlen(id: u32): u32 {
    if (id == 0) return 0;
    const b = this.owner(id);
    return infoVlen(load<u32>(b.ownRec(id), T_INFO), b.wide);
  }
  @inline kflag(id: u32): bool { return infoKflag(this.info(id)); }
  @inline nameOff(id: u32): u32 { return load<u32>(this.rec(id), T_NAME); }
  /** The size|type word. */
  @inline sizeOrType(id: u32): u32 { return load<u32>(this.rec(id), T_SIZE); }
  /** Address of the first byte after the common record (members, params, ...). */
  @inline extra(id: u32): usize { return this.rec(id) + COMMON_LEN; }

  /** Decode kind/vlen of a record belonging to this object. */
  @inline recKind(p: usize): u32 { return infoKind(load<u32>(p, T_INFO), this.wide); }
  @inline recVlen(p: usize): u32 { return infoVlen(load<u32>(p, T_INFO), this.wide); }

  /** Address of the NUL-terminated string at `off` (0 is ""); off must be valid. */
  str(off: u32): usize {
    let b: Btf = this;
    while (off < b.startStrOff) b = b.base!;
    return b.strs + <usize>(off - b.startStrOff);
  }

  /** Is `off` a valid string offset anywhere in the chain? */
  strValid(off: u32): bool { return off < this.strEnd(); }

  /** Name of a type as an address. */
  @inline name(id: u32): usize { return this.str(this.nameOff(id)); }

  /** Find a string by content in this object's chain, base first (libbpf btf__find_str). */
  @inline findStr(p: usize): i64 { return this.findStrHashed(p, cstrHash(p)); }

  /** findStr() with the string's cstrHash already computed. */
  findStrHashed(p: usize, h: u32): i64 {
    if (this.base !== null) {
      const r = this.base!.findStrHashed(p, h);
      if (r >= 0) return r;
    }
    if (this.strLen == 0) return -1;
    if (this.strIndex === null) this.strIndex = indexSection(this.strs, this.strLen);
    const local = this.strIndex!.findHashed(p, h);
    return local < 0 ? -1 : local + <i64>this.startStrOff;
  }

  /** Own types by name: built on first use, then O(1) per lookup. */
  nameIndex(): NameIndex {
    if (this.names !== null) return this.names!;
    const idx = new NameIndex(this.startId, this.count);
    const cnt = this.typeCnt();
    // Insert in descending id order so each chain reads in ascending order.
    for (let id = cnt - 1; id >= this.startId; id--) {
      const off = load<u32>(this.ownRec(id), T_NAME);
      if (off == 0) continue;
      idx.prepend(this.str(off), id);
    }
    this.names = idx;
    return idx;
  }

  /**
   * The next id after `after` whose name equals the string at `p` (and whose
   * kind is `kind`, 0 = any), base chain first; 0 when there is none.
   */
  findNext(p: usize, kind: u32, after: u32): u32 {
    if (this.base !== null && after < this.startId) {
      const r = this.base!.findNext(p, kind, after);
      if (r != 0) return r;
    }
    const idx = this.nameIndex();
    let id = idx.first(p);
    while (id != 0 && (id <= after || (kind != 0 && this.kind(id) != kind))) id = idx.nextOf(id);
    return id;
  }

  /** Strip modifiers and typedefs (bounded, so loops cannot hang). */
  skipModsAndTypedefs(id: u32): u32 {
    for (let guard = 0; guard < 1_000_000; guard++) {
      const k = this.kind(id);
      if (k == KIND_TYPEDEF || k == KIND_VOLATILE || k == KIND_CONST ||
          k == KIND_RESTRICT || k == KIND_TYPE_TAG) id = this.sizeOrType(id);
      else return id;
    }
    return id;
  }

  /**
   * Pointer size as libbpf's determine_ptr_size: from an INT named like
   * `long` of size 4 or 8, else the base's, else -1 (unknown).
   */
  ptrSize(): i32 {
    if (this.ptrSizeCache != -2) return this.ptrSizeCache;
    let r: i32 = -1;
    if (this.base !== null) r = this.base!.ptrSize();
    if (r < 0) {
      const n = this.typeCnt();
      for (let id: u32 = 1; id < n; id++) {
        if (this.kind(id) != KIND_INT) continue;
        const sz = this.sizeOrType(id);
        if (sz != 4 && sz != 8) continue;
        const nm = this.name(id);
        if (isLongName(nm)) { r = <i32>sz; break; }
      }
    }
    this.ptrSizeCache = r;
    return r;
  }

  /**
   * libbpf btf__resolve_size: size of a type following modifiers, typedefs
   * and arrays; -1 for types without a size. Bounded against loops.
   */
  resolveSize(id: u32, ptrSize: i32): i64 {
    let nelems: u64 = 1;
    for (let depth: u32 = 0; depth < MAX_RESOLVE_DEPTH && id != 0; depth++) {
      const k = this.kind(id);
      switch (k) {
        case KIND_INT: case KIND_STRUCT: case KIND_UNION: case KIND_ENUM:
        case KIND_ENUM64: case KIND_DATASEC: case KIND_FLOAT: {
          const sz = <u64>this.sizeOrType(id) * nelems;
          return sz > 0xffffffff ? -1 : <i64>sz;
        }
        case KIND_PTR: {
          const sz = <u64>ptrSize * nelems;
          return sz > 0xffffffff ? -1 : <i64>sz;
        }
        case KIND_TYPEDEF: case KIND_VOLATILE: case KIND_CONST: case KIND_RESTRICT:
        case KIND_VAR: case KIND_DECL_TAG: case KIND_TYPE_TAG:
          id = this.sizeOrType(id);
          break;
        case KIND_ARRAY: {
          const a = this.extra(id);
          const n = <u64>load<u32>(a, 8);
          nelems *= n;
          if (nelems > 0xffffffff) return -1;
          id = load<u32>(a);
          break;
        }
        default:
          return -1;
      }
    }
    return -1;
  }

  retain(): void { this.refs++; }

  /** Drop a reference; frees the memory when none is left. */
  release(): void {
    if (--this.refs > 0) return;
    if (this.index != 0) heap.free(this.index);
    if (this.owned != 0) heap.free(this.owned);
    if (this.strIndex !== null) this.strIndex!.dispose();
    if (this.names !== null) this.names!.dispose();
    this.names = null;
    let ix = this.indexes;
    while (ix !== null) { ix.dispose(); ix = ix.next; }
    this.indexes = null;
    this.index = 0;
    this.owned = 0;
    this.strIndex = null;
    if (this.base !== null) {
      this.base!.release();
      this.base = null;
    }
  }
}

/** libbpf's list of names for `long` used to guess the pointer size. */
function isLongName(p: usize): bool {
  return cstrEqLit(p, "long") || cstrEqLit(p, "long int") || cstrEqLit(p, "int long") ||
    cstrEqLit(p, "unsigned long") || cstrEqLit(p, "long unsigned") ||
    cstrEqLit(p, "unsigned long int") || cstrEqLit(p, "unsigned int long") ||
    cstrEqLit(p, "long unsigned int") || cstrEqLit(p, "long int unsigned") ||
    cstrEqLit(p, "int unsigned long") || cstrEqLit(p, "int long unsigned");
}
