// Distill (libbpf btf__distill_base, src/btf.c): from a split BTF on its
// full base, build a minimal "distilled" base (named INT/FLOAT/FWD copied,
// named STRUCT/UNION/ENUM/ENUM64 as sized, member-less stand-ins) and a new
// split that carries every original split type plus copies of the other base
// types it needs (typedefs, pointers, arrays, modifiers, func protos,
// anonymous composites). Byte-identical to libbpf: the same phases in the
// same order, the same string insertion order (btf__add_str on the new split
// looks in the distilled base first), the same id arithmetic.
//
// Phases (followed from btf_add_distilled_type_ids, btf_add_distilled_types,
// btf_update_distilled_type_ids):
//  A. mark every base type reachable from the split's id fields, not looking
//     inside named composites; libbpf recurses, we keep an explicit stack in
//     the same depth-first order (so the same first refusal is reported).
//  B. distilled base: marked base types in old id order.
//  C. new split: every split type, then marked base types that could not go
//     to the distilled base, in old id order.
//  D. remap the id fields of the new split's records.

import { Btf } from "./btf";
import { BtfBuilder } from "./write";
import { IdMap } from "./idmap";
import { U32Map } from "./u32map";
import { U32Vec } from "./vec";
import { ByteSink } from "./sink";
import { Err, fail } from "./errors";
import { cstrToString } from "./bytes";
import { strFieldAddr, strFieldCount, typeIdFieldAddr, typeIdFieldCount } from "./fields";
import {
  COMMON_LEN, KIND_ARRAY, KIND_CONST, KIND_ENUM, KIND_ENUM64, KIND_FLOAT, KIND_FUNC_PROTO,
  KIND_FWD, KIND_INT, KIND_MAX, KIND_PTR, KIND_RESTRICT, KIND_STRUCT, KIND_TYPEDEF,
  KIND_TYPE_TAG, KIND_UNION, KIND_VOLATILE, T_INFO, T_NAME, T_SIZE, infoKind, infoVlen,
  kindName, trailingLen,
} from "./format";

export class DistillResult {
  constructor(
    public base: Btf,
    public split: Btf,
    /** Old id (in the source split's id space) -> new id; 0 for base types not kept. */
    public idMap: IdMap,
    /** The old base ids the module needs, ascending: the only base ids idMap maps. */
    public baseIds: U32Vec,
  ) {}

  dispose(): void {
    this.base.release();
    this.split.release();
    this.idMap.dispose();
    this.baseIds.free();
  }
}

/** Base kinds a split type may reference for distillation (btf_add_distilled_type_ids). */
function distillableKind(kind: u32): bool {
  switch (kind) {
    case KIND_INT: case KIND_FLOAT: case KIND_FWD: case KIND_ARRAY: case KIND_STRUCT:
    case KIND_UNION: case KIND_TYPEDEF: case KIND_ENUM: case KIND_ENUM64: case KIND_PTR:
    case KIND_CONST: case KIND_RESTRICT: case KIND_VOLATILE: case KIND_FUNC_PROTO:
    case KIND_TYPE_TAG:
      return true;
    default:
      return false;
  }
}

/** Base kinds that are copied to the new split (those not held by the distilled base). */
function goesToSplit(kind: u32, named: bool): bool {
  switch (kind) {
    case KIND_STRUCT: case KIND_UNION: case KIND_ENUM: case KIND_ENUM64:
      return !named;
    case KIND_ARRAY: case KIND_TYPEDEF: case KIND_PTR: case KIND_CONST: case KIND_RESTRICT:
    case KIND_VOLATILE: case KIND_FUNC_PROTO: case KIND_TYPE_TAG:
      return true;
    default:
      return false;
  }
}

/**
 * String rewriting as libbpf btf_rewrite_str with its str_off_map: the
 * result is what btf__add_str gives (the distilled base first, then the
 * split's own set, deduplicated in first-insertion order); the cache only
 * saves hashing strings that many fields share.
 */
class StrPipe {
  cache: U32Map;
  /**
   * Bit per two-byte prefix of the distilled base's strings (set once the
   * base is built): a split string whose prefix is not there cannot be
   * found in the base, and skips hashing it for that lookup.
   */
  basePrefixes: usize = 0;
  constructor(public src: Btf, expected: u32) { this.cache = new U32Map(expected); }

  /** Record the two-byte prefixes of every string of `base`. */
  setBase(base: Btf): void {
    const bits = heap.alloc(8192);
    memory.fill(bits, 0, 8192);
    const p = base.strs;
    const len = base.strLen;
    let off: u32 = 0;
    while (off < len) {
      const b0 = <u32>load<u8>(p + off);
      const key = b0 == 0 ? 0 : (b0 << 8) | <u32>load<u8>(p + off + 1);
      store<u8>(bits + (key >> 3), <u32>load<u8>(bits + (key >> 3)) | (<u32>1 << (key & 7)));
      while (off < len && load<u8>(p + off) != 0) off++;
      off++;
    }
    this.basePrefixes = bits;
  }

  rewrite(dst: BtfBuilder, off: u32): u32 {
    if (off == 0) return 0;
    const hit = this.cache.get(off, 0xffffffff);
    if (hit != 0xffffffff) return hit;
    const s = this.src.str(off);
    let r: u32;
    const b0 = <u32>load<u8>(s);
    const bits = this.basePrefixes;
    if (bits != 0 && b0 != 0 && dst.base !== null) {
      const key = (b0 << 8) | <u32>load<u8>(s + 1);
      // btf__add_str: the base first (only where it can be), then the own set.
      r = (<u32>load<u8>(bits + (key >> 3)) & (<u32>1 << (key & 7))) != 0 ? dst.addStr(s) : dst.startStrOff + dst.strs.add(s);
    } else {
      r = dst.addStr(s);
    }
    this.cache.set(off, r);
    return r;
  }

  /** libbpf btf_add_type: copy the record verbatim, then rewrite its string fields. */
  copyType(dst: BtfBuilder, p: usize, kind: u32, vlen: u32): u32 {
    const len = COMMON_LEN + <u32>trailingLen(kind, vlen);
    const id = dst.addRaw(p, len);
    const q = dst.recOf(id);
    const ns = strFieldCount(kind, vlen);
    for (let i: u32 = 0; i < ns; i++) {
      const a = strFieldAddr(q, kind, i);
      const off = load<u32>(a);
      if (off != 0) store<u32>(a, this.rewrite(dst, off));
    }
    return id;
  }

  dispose(): void {
    this.cache.dispose();
    if (this.basePrefixes != 0) heap.free(this.basePrefixes);
    this.basePrefixes = 0;
  }
}

// Phase A stack entries: referencing id, record address, kind, field count, next field.
const FRAME: u32 = 20;

@inline function pushFrame(stack: ByteSink, id: u32, p: usize, kind: u32, vlen: u32): void {
  stack.reserve(FRAME);
  const f = stack.ptr + stack.len;
  store<u32>(f, id);
  store<u32>(f, <u32>p, 4);
  store<u32>(f, kind, 8);
  store<u32>(f, typeIdFieldCount(kind, vlen), 12);
  store<u32>(f, 0, 16);
  stack.len += FRAME;
}

/**
 * Phase A for one split type: mark the base types it needs, depth first in
 * field order as libbpf's recursion, with an explicit stack of frames.
 */
function markNeeded(src: Btf, base: Btf, map: IdMap, marked: usize, splitStart: u32, root: u32, stack: ByteSink): bool {
  // The split type's own fields first, without a frame: most reference
  // split types or base types already marked.
  const rp = src.ownRec(root);
  const rk = src.recKind(rp);
  const cnt = typeIdFieldCount(rk, src.recVlen(rp));
  for (let i: u32 = 0; i < cnt; i++) {
    const ref = load<u32>(typeIdFieldAddr(rp, rk, i));
    if (ref == 0 || ref >= splitStart || map.get(ref) != 0) continue;
    if (!markBase(base, map, marked, splitStart, root, ref, stack)) return false;
  }
  return true;
}

/** Mark base type `ref` (referenced by `from`) and, depth first, the base types below it. */
function markBase(base: Btf, map: IdMap, marked: usize, splitStart: u32, from: u32, ref: u32, stack: ByteSink): bool {
  stack.len = 0;
  if (!markOne(base, map, marked, from, ref, stack)) return false;
  while (stack.len > 0) {
    const f = stack.ptr + stack.len - FRAME;
    const i = load<u32>(f, 16);
    const kind = load<u32>(f, 8);
    if (i >= load<u32>(f, 12)) { stack.len -= FRAME; continue; }
    store<u32>(f, i + 1, 16);
    const ref = load<u32>(typeIdFieldAddr(<usize>load<u32>(f, 4), kind, i));
    if (ref == 0 || ref >= splitStart || map.get(ref) != 0) continue;
    if (!markOne(base, map, marked, load<u32>(f), ref, stack)) return false;
  }
  return true;
}

/** Mark one base type; a frame for its fields unless nothing below it is needed. */
function markOne(base: Btf, map: IdMap, marked: usize, id: u32, ref: u32, stack: ByteSink): bool {
  const rk = base.kind(ref);
  if (!distillableKind(rk)) {
    const nm = base.nameOff(ref);
    return fail(Err.DISTILL_REFUSED, -1, ref,
      "type [" + id.toString() + "] references base type [" + ref.toString() + "] " + kindName(rk) +
      (nm != 0 ? " '" + cstrToString(base.str(nm)) + "'" : "") +
      ", which a distilled base cannot hold (libbpf: unexpected reference to base type[" +
      ref.toString() + "] of kind [" + rk.toString() + "])");
  }
  map.set(ref, ref);
  store<u32>(marked + (<usize>(ref >> 5) << 2), load<u32>(marked + (<usize>(ref >> 5) << 2)) | (<u32>1 << (ref & 31)));
  const p = base.rec(ref);
  // Distilled named composites carry no members: nothing below them is needed.
  if ((rk == KIND_STRUCT || rk == KIND_UNION) && load<u32>(p, T_NAME) != 0) return true;
  pushFrame(stack, ref, p, rk, base.vlen(ref));
  return true;
}

/** btf__distill_base. Returns null with the error recorded. */
export function distill(src: Btf): DistillResult | null {
  if (src.base === null) {
    fail(Err.NO_BASE, -1, 0, "distill needs split BTF (a module on its base)");
    return null;
  }
  const n = src.typeCnt();
  const splitStart = src.startId;
  // Kinds we cannot walk (known only through a layout section) and vlens a
  // 24-byte header cannot hold stop us, as libbpf's field iterator refuses them.
  for (let id = splitStart; id < n; id++) {
    const info = load<u32>(src.ownRec(id), T_INFO);
    const kind = infoKind(info, src.wide);
    if (kind == 0 || kind > KIND_MAX || infoVlen(info, src.wide) > 0xffff) {
      fail(Err.UNSUPPORTED, -1, id, "type [" + id.toString() + "] has kind " + kind.toString() + " or a vlen that distill cannot carry");
      return null;
    }
  }

  const map = new IdMap(n);
  // Phase A. Besides the map, a bitmap of the marked base ids: the later
  // phases visit those in id order without a pass over the whole base.
  const words = (splitStart + 31) >> 5;
  const marked = heap.alloc((<usize>words << 2) + 4);
  memory.fill(marked, 0, (<usize>words << 2) + 4);
  const stack = new ByteSink(256);
  const oldBase = src.base!;
  for (let id = splitStart; id < n; id++) {
    if (!markNeeded(src, oldBase, map, marked, splitStart, id, stack)) {
      stack.dispose();
      heap.free(marked);
      map.dispose();
      return null;
    }
  }
  stack.dispose();
  // The marked ids, ascending.
  const neededList = new U32Vec(256);
  for (let w: u32 = 0; w < words; w++) {
    let bits = load<u32>(marked + (<usize>w << 2));
    while (bits != 0) {
      neededList.push((w << 5) + ctz(bits));
      bits &= bits - 1;
    }
  }
  heap.free(marked);
  const needed = neededList.ptr;
  const nNeeded = neededList.len;

  const pipe = new StrPipe(src, src.strLen / 20 + 1024);

  // Phase B: the distilled base, old base order.
  const bb = new BtfBuilder(null);
  for (let j: u32 = 0; j < nNeeded; j++) {
    const id = load<u32>(needed + (<usize>j << 2));
    const p = src.rec(id);
    const kind = src.kind(id);
    const nameOff = load<u32>(p, T_NAME);
    let nid: u32 = 0;
    switch (kind) {
      case KIND_INT: case KIND_FLOAT: case KIND_FWD:
        nid = pipe.copyType(bb, p, kind, 0);
        break;
      case KIND_STRUCT: case KIND_UNION:
        if (nameOff == 0) continue;
        // btf_add_composite: same kind, name and size, no members, kind_flag 0.
        nid = bb.addComposite(kind, bb.addStr(src.str(nameOff)), load<u32>(p, T_SIZE), false);
        break;
      case KIND_ENUM: case KIND_ENUM64: {
        if (nameOff == 0) continue;
        // btf__add_enum: always ENUM, signedness dropped; it refuses odd sizes.
        const sz = load<u32>(p, T_SIZE);
        if (sz == 0 || (sz & (sz - 1)) != 0 || sz > 8) {
          pipe.dispose(); bb.dispose(); map.dispose(); neededList.free();
          fail(Err.DISTILL_REFUSED, -1, id, "base type [" + id.toString() + "] " + kindName(kind) + " has size " + sz.toString() + ", which a distilled ENUM cannot carry");
          return null;
        }
        nid = bb.addComposite(KIND_ENUM, bb.addStr(src.str(nameOff)), sz, false);
        break;
      }
      default:
        continue;
    }
    map.set(id, nid);
  }
  const newBase = bb.finish();
  bb.dispose();
  if (newBase === null) { pipe.dispose(); map.dispose(); neededList.free(); return null; }
  newBase.bigEndian = src.bigEndian;
  pipe.setBase(newBase);

  // Phase C: the new split (the builder borrows our reference to the base;
  // the finished split takes its own).
  const sb = new BtfBuilder(newBase);
  // Room for the split's types and strings plus the base types it takes along.
  sb.reserve(src.count + 1024, src.typeLen + 65536, src.strLen / 20 + 1024, src.strLen + 65536);
  for (let id = splitStart; id < n; id++) {
    const p = src.ownRec(id);
    pipe.copyType(sb, p, src.recKind(p), src.recVlen(p));
  }
  for (let j: u32 = 0; j < nNeeded; j++) {
    const id = load<u32>(needed + (<usize>j << 2));
    const kind = src.kind(id);
    if (!goesToSplit(kind, src.nameOff(id) != 0)) continue;
    map.set(id, pipe.copyType(sb, src.rec(id), kind, src.vlen(id)));
  }
  pipe.dispose();

  // Phase D: split ids shift down by what the base lost; base ids follow the map.
  const diff = splitStart - newBase.typeCnt();
  for (let id = splitStart; id < n; id++) map.set(id, id - diff);
  const cnt = sb.typeCnt();
  for (let id = sb.startId; id < cnt; id++) {
    const q = sb.recOf(id);
    const info = load<u32>(q, T_INFO);
    map.applyToRecord(q, infoKind(info, false), infoVlen(info, false));
  }
  const newSplit = sb.finish();
  sb.dispose();
  if (newSplit === null) { newBase.release(); map.dispose(); neededList.free(); return null; }
  newSplit.bigEndian = src.bigEndian;
  return new DistillResult(newBase, newSplit, map, neededList);
}
