// Tailored ("min-core") BTF: the types and members that CO-RE relocations
// touch in a target kernel, written as a standalone BTF. This follows
// bpftool 7.5's BTFGen (src/gen.c): btfgen_record_reloc and the per-kind
// marking (btfgen_record_field_relo, btfgen_mark_type,
// btfgen_mark_type_match), then btfgen_get_btf, which adds the marked types
// in id order to an empty BTF with libbpf 1.5's btf__add_struct/add_field
// (only marked members) and btf__add_type (everything else), and renumbers
// ids, an unmarked target becoming 0.
//
// Beyond bpftool, targets may be module BTFs split on the vmlinux: their
// marked own types follow vmlinux's, module by module, as if they were
// vmlinux types. libbpf searches modules only for names vmlinux has no
// candidate for; a module type whose (essential name, kind) is one that
// vmlinux answers for a local root type would become a candidate that libbpf
// never saw, so such types are written nameless (struct, union, enum; a
// field relocation matches nested composites by member names, not type
// names) or, for typedefs and forward declarations, replaced by what they
// stand for.
//
// Marking is iterative (explicit stacks) with a visited bit per mode, so
// neither input depth nor loops drive recursion and each type is expanded
// at most once per mode.

import { Btf } from "./btf";
import { Err, fail } from "./errors";
import { ByteSink } from "./sink";
import { U32Vec } from "./vec";
import { StrSet } from "./strings";
import { BtfBuilder } from "./write";
import { essLenOf } from "./core/spec";
import { hasCands } from "./core/cands";
import {
  COMMON_LEN, MEMBER_LEN, PARAM_LEN, T_INFO, T_NAME, T_SIZE, HDR_LEN_CLASSIC, BTF_MAGIC,
  KIND_UNKN, KIND_INT, KIND_PTR, KIND_ARRAY, KIND_STRUCT, KIND_UNION, KIND_ENUM, KIND_FWD,
  KIND_TYPEDEF, KIND_VOLATILE, KIND_CONST, KIND_RESTRICT, KIND_FUNC_PROTO, KIND_FLOAT,
  KIND_TYPE_TAG, KIND_ENUM64, infoKflag, infoKind, infoVlen, trailingLen, kindName,
  memberBitOffset, memberBitfieldSize, isComposite,
} from "./format";
import { typeIdFieldCount, typeIdFieldAddr, strFieldCount, strFieldAddr } from "./fields";

// libbpf's enum bpf_core_relo_kind.
export const RELO_FIELD_BYTE_OFFSET: u32 = 0;
export const RELO_FIELD_BYTE_SIZE: u32 = 1;
export const RELO_FIELD_EXISTS: u32 = 2;
export const RELO_FIELD_SIGNED: u32 = 3;
export const RELO_FIELD_LSHIFT_U64: u32 = 4;
export const RELO_FIELD_RSHIFT_U64: u32 = 5;
export const RELO_TYPE_ID_LOCAL: u32 = 6;
export const RELO_TYPE_ID_TARGET: u32 = 7;
export const RELO_TYPE_EXISTS: u32 = 8;
export const RELO_TYPE_SIZE: u32 = 9;
export const RELO_ENUMVAL_EXISTS: u32 = 10;
export const RELO_ENUMVAL_VALUE: u32 = 11;
export const RELO_TYPE_MATCHES: u32 = 12;

// Per-type flag bits (one byte per own type of each target).
const F_MARKED: u8 = 1;
const F_SEEN_PLAIN: u8 = 2; // btfgen_mark_type(follow_pointers = false) expanded
const F_SEEN_FOLLOW: u8 = 4; // btfgen_mark_type(follow_pointers = true) expanded
const F_SEEN_TM_PTR: u8 = 8; // btfgen_mark_type_match(behind_ptr = true) expanded
const F_SEEN_TM: u8 = 16; // btfgen_mark_type_match(behind_ptr = false) expanded
const F_NAMELESS: u8 = 32; // module type written without its name (see header)
const F_ELIDED: u8 = 64; // module typedef/fwd replaced by its target

/** Candidate kind class (libbpf btf_kind_core_compat): enum and enum64 are one. */
@inline function kindClass(kind: u32): u32 { return kind == KIND_ENUM64 ? KIND_ENUM : kind; }

/** One target BTF (vmlinux or a module) and its marks. */
class Target {
  btf: Btf;
  /** u8 flags per own type. */
  flags: usize;
  /** One bit per 4-byte word of the type section: set on a member's first word when the member is kept. */
  memberBits: usize;
  /** New id per own type (0: not written). */
  newIds: usize;

  constructor(btf: Btf) {
    this.btf = btf;
    const n = <usize>max<u32>(btf.count, 1);
    this.flags = heap.alloc(n);
    memory.fill(this.flags, 0, n);
    const words = (<usize>btf.typeLen >> 2) + 1;
    const bitBytes = (words + 7) >> 3;
    this.memberBits = heap.alloc(bitBytes);
    memory.fill(this.memberBits, 0, bitBytes);
    this.newIds = heap.alloc(n << 2);
    memory.fill(this.newIds, 0, n << 2);
  }

  @inline flagAddr(id: u32): usize { return this.flags + <usize>(id - this.btf.startId); }

  /** Member bit address and mask of member `idx` of own type `id`. */
  @inline memberWord(id: u32, idx: u32): usize {
    return ((this.btf.ownRec(id) - this.btf.types) >> 2) + 3 + <usize>idx * 3;
  }
  markMember(id: u32, idx: u32): void {
    const w = this.memberWord(id, idx);
    const a = this.memberBits + (w >> 3);
    store<u8>(a, load<u8>(a) | <u8>(<u32>1 << <u32>(w & 7)));
  }
  memberMarked(id: u32, idx: u32): bool {
    const w = this.memberWord(id, idx);
    return (load<u8>(this.memberBits + (w >> 3)) & <u8>(<u32>1 << <u32>(w & 7))) != 0;
  }

  dispose(): void {
    heap.free(this.flags);
    heap.free(this.memberBits);
    heap.free(this.newIds);
  }
}

export class MinCore {
  /** targets[0] is the vmlinux; the rest are modules split on it. */
  targets: Array<Target> = new Array<Target>();
  /** (kind class, essential name) of local root types that vmlinux has candidates for. */
  guarded: StrSet = new StrSet(false);
  private stack: U32Vec = new U32Vec(64);
  private scratch: ByteSink = new ByteSink(64);
  typesKept: u32 = 0;

  constructor(vmlinux: Btf) {
    vmlinux.retain();
    this.targets.push(new Target(vmlinux));
  }

  /** Add a module BTF (split on the same vmlinux); returns its target index. */
  addModule(m: Btf): i32 {
    if (m.base !== this.targets[0].btf) {
      fail(Err.USAGE, -1, 0, "a module target must be split on the min-core vmlinux");
      return -1;
    }
    m.retain();
    this.targets.push(new Target(m));
    return this.targets.length - 1;
  }

  /** Target index of a BTF object, or -1. */
  indexOf(btf: Btf): i32 {
    for (let i = 0; i < this.targets.length; i++) if (this.targets[i].btf === btf) return i;
    return -1;
  }

  /** The target owning `id` as seen from target `t` (split ids below startId are vmlinux's). */
  @inline private owner(t: Target, id: u32): Target {
    return id < t.btf.startId ? unchecked(this.targets[0]) : t;
  }

  /** Mark `id` as kept (types only); returns its flag address. */
  private markType(t: Target, id: u32): usize {
    const o = this.owner(t, id);
    const a = o.flagAddr(id);
    store<u8>(a, load<u8>(a) | F_MARKED);
    return a;
  }

  /**
   * Record one relocation's target spec (bpftool btfgen_record_reloc with
   * specs_scratch[2]): relocation kind, target index, root type id (0 when
   * nothing matched: nothing is kept), and the raw access spec (u32 words).
   */
  record(kind: u32, ti: i32, root: u32, spec: usize, specLen: u32): bool {
    if (ti < 0 || ti >= this.targets.length) return fail(Err.USAGE, -1, 0, "no such min-core target");
    const t = unchecked(this.targets[ti]);
    if (root >= t.btf.typeCnt()) return fail(Err.BAD_TYPE_ID, -1, root, "target spec root " + root.toString() + " out of range");
    switch (kind) {
      case RELO_FIELD_BYTE_OFFSET: case RELO_FIELD_BYTE_SIZE: case RELO_FIELD_EXISTS:
      case RELO_FIELD_SIGNED: case RELO_FIELD_LSHIFT_U64: case RELO_FIELD_RSHIFT_U64:
        return this.fieldRelo(t, root, spec, specLen);
      case RELO_TYPE_ID_LOCAL:
        return true; // needs no kernel BTF
      case RELO_TYPE_ID_TARGET: case RELO_TYPE_EXISTS: case RELO_TYPE_SIZE:
        return this.markTypes(t, root, true);
      case RELO_TYPE_MATCHES:
        return this.markTypeMatch(t, root);
      case RELO_ENUMVAL_EXISTS: case RELO_ENUMVAL_VALUE:
        return this.markTypes(t, root, false);
      default:
        return fail(Err.USAGE, -1, root, "unknown relocation kind " + kind.toString());
    }
  }

  /** btfgen_record_field_relo: the root, then each member on the access path and its type. */
  private fieldRelo(t: Target, root: u32, spec: usize, specLen: u32): bool {
    if (!this.markTypes(t, root, false)) return false;
    const btf = t.btf;
    let id = root;
    for (let i: u32 = 1; i < specLen; i++) {
      id = btf.skipModsAndTypedefs(id);
      const k = btf.kind(id);
      const idx = load<u32>(spec + (<usize>i << 2));
      if (k == KIND_STRUCT || k == KIND_UNION) {
        if (idx >= btf.vlen(id)) return fail(Err.USAGE, -1, id, "access index " + idx.toString() + " past the members of [" + id.toString() + "]");
        this.owner(t, id).markMember(id, idx);
        id = load<u32>(btf.extra(id) + <usize>idx * MEMBER_LEN, 4);
        if (!this.markTypes(t, id, false)) return false;
      } else if (k == KIND_ARRAY) {
        id = load<u32>(btf.extra(id));
      } else {
        return fail(Err.UNSUPPORTED, -1, id, "unsupported kind: " + kindName(k) + " (" + id.toString() + ")");
      }
    }
    return true;
  }

  /** btfgen_mark_type: the type and what it needs; pointers followed only with `follow`. */
  private markTypes(t: Target, start: u32, follow: bool): bool {
    const seenBit = follow ? F_SEEN_FOLLOW : F_SEEN_PLAIN;
    const st = this.stack;
    st.len = 0;
    st.push(start);
    while (st.len > 0) {
      const id = st.get(--st.len);
      if (id == 0) continue;
      const a = this.markType(t, id);
      const f = load<u8>(a);
      // A follow expansion covers the plain one.
      if ((f & seenBit) != 0 || (f & F_SEEN_FOLLOW) != 0) continue;
      store<u8>(a, f | seenBit);
      const btf = t.btf;
      const k = btf.kind(id);
      switch (k) {
        case KIND_UNKN: case KIND_INT: case KIND_FLOAT: case KIND_ENUM: case KIND_ENUM64:
        case KIND_STRUCT: case KIND_UNION:
          break;
        case KIND_PTR:
          if (follow) st.push(btf.sizeOrType(id));
          break;
        case KIND_CONST: case KIND_RESTRICT: case KIND_VOLATILE: case KIND_TYPEDEF:
          st.push(btf.sizeOrType(id));
          break;
        case KIND_ARRAY: {
          const x = btf.extra(id);
          st.push(load<u32>(x, 4)); // index type
          st.push(load<u32>(x)); // element type
          break;
        }
        case KIND_FUNC_PROTO: {
          const x = btf.extra(id);
          const n = btf.vlen(id);
          for (let i = <i32>n - 1; i >= 0; i--) st.push(load<u32>(x + <usize>i * PARAM_LEN, 4));
          st.push(btf.sizeOrType(id));
          break;
        }
        default:
          return fail(Err.UNSUPPORTED, -1, id, "unsupported kind: " + kindName(k) + " (" + id.toString() + ")");
      }
    }
    return true;
  }

  /**
   * btfgen_mark_type_match: like markTypes, but a struct or union not behind
   * a pointer keeps all its members (and their types). Stack entries are
   * id << 1 | behind_ptr.
   */
  private markTypeMatch(t: Target, start: u32): bool {
    const st = this.stack;
    st.len = 0;
    st.push(start << 1);
    while (st.len > 0) {
      const e = st.get(--st.len);
      const id = e >> 1;
      const behind = (e & 1) != 0;
      if (id == 0) continue;
      const a = this.markType(t, id);
      const f = load<u8>(a);
      const seenBit = behind ? F_SEEN_TM_PTR : F_SEEN_TM;
      if ((f & seenBit) != 0 || (f & F_SEEN_TM) != 0) continue;
      store<u8>(a, f | seenBit);
      const btf = t.btf;
      const k = btf.kind(id);
      switch (k) {
        case KIND_UNKN: case KIND_INT: case KIND_FLOAT: case KIND_ENUM: case KIND_ENUM64:
          break;
        case KIND_STRUCT: case KIND_UNION: {
          if (behind) break;
          const o = this.owner(t, id);
          const x = btf.extra(id);
          const n = btf.vlen(id);
          for (let i: u32 = 0; i < n; i++) o.markMember(id, i);
          for (let i = <i32>n - 1; i >= 0; i--) st.push(load<u32>(x + <usize>i * MEMBER_LEN, 4) << 1);
          break;
        }
        case KIND_CONST: case KIND_FWD: case KIND_RESTRICT: case KIND_TYPEDEF: case KIND_VOLATILE:
          st.push((btf.sizeOrType(id) << 1) | (behind ? 1 : 0));
          break;
        case KIND_PTR:
          st.push((btf.sizeOrType(id) << 1) | 1);
          break;
        case KIND_ARRAY: {
          const x = btf.extra(id);
          st.push(load<u32>(x, 4) << 1);
          st.push(load<u32>(x) << 1);
          break;
        }
        case KIND_FUNC_PROTO: {
          const x = btf.extra(id);
          const n = btf.vlen(id);
          for (let i = <i32>n - 1; i >= 0; i--) st.push(load<u32>(x + <usize>i * PARAM_LEN, 4) << 1);
          st.push(btf.sizeOrType(id) << 1);
          break;
        }
        default:
          return fail(Err.UNSUPPORTED, -1, id, "unsupported kind: " + kindName(k) + " (" + id.toString() + ")");
      }
    }
    return true;
  }

  // ---- the module rule --------------------------------------------------

  /** Key "<class char><essential name>" in the scratch sink; returns its address. */
  private guardKey(name: usize, len: u32, kind: u32): usize {
    const s = this.scratch;
    s.len = 0;
    s.byte(0x40 + kindClass(kind));
    s.bytes(name, len);
    s.byte(0);
    return s.ptr;
  }

  /**
   * A local root type (name, kind) of some relocation: when vmlinux has a
   * candidate for it, module types of that essential name and kind class
   * must not be candidates in the output (libbpf never searched modules
   * for it). Returns whether it was guarded.
   */
  guard(name: usize, kind: u32): bool {
    const len = essLenOf(name);
    if (!hasCands(name, len, kind, unchecked(this.targets[0]).btf)) return false;
    this.guarded.add(this.guardKey(name, len, kind));
    return true;
  }

  private isGuarded(name: usize, kind: u32): bool {
    if (this.guarded.len == 0) return false;
    return this.guarded.find(this.guardKey(name, essLenOf(name), kind)) >= 0;
  }

  // ---- output (btfgen_get_btf) -------------------------------------------

  /** New id of `id` as referenced from target `t` (0 for void and unkept types). */
  private mapId(t: Target, id: u32): u32 {
    if (id == 0) return 0;
    const o = this.owner(t, id);
    return load<u32>(o.newIds + (<usize>(id - o.btf.startId) << 2));
  }

  /** Assign new ids in output order; apply the module rule. Returns the type count. */
  private assignIds(): u32 {
    let next: u32 = 1;
    for (let ti = 0; ti < this.targets.length; ti++) {
      const t = unchecked(this.targets[ti]);
      const btf = t.btf;
      const cnt = btf.typeCnt();
      for (let id = btf.startId; id < cnt; id++) {
        const a = t.flagAddr(id);
        let f = load<u8>(a);
        if ((f & F_MARKED) == 0) continue;
        if (ti > 0) {
          const p = btf.ownRec(id);
          const nameOff = load<u32>(p, T_NAME);
          const k = btf.recKind(p);
          if (nameOff != 0 && this.isGuarded(btf.str(nameOff), k)) {
            if (k == KIND_TYPEDEF || k == KIND_FWD) f |= F_ELIDED;
            else if (k == KIND_STRUCT || k == KIND_UNION || k == KIND_ENUM || k == KIND_ENUM64) f |= F_NAMELESS;
            store<u8>(a, f);
          }
        }
        if ((f & F_ELIDED) != 0) continue;
        store<u32>(t.newIds + (<usize>(id - btf.startId) << 2), next++);
      }
    }
    // Elided typedefs stand for their target (a forward declaration for void).
    for (let ti = 1; ti < this.targets.length; ti++) {
      const t = unchecked(this.targets[ti]);
      const btf = t.btf;
      const cnt = btf.typeCnt();
      for (let id = btf.startId; id < cnt; id++) {
        if ((load<u8>(t.flagAddr(id)) & F_ELIDED) == 0) continue;
        let cur = id;
        let guard: u32 = 0;
        while (cur >= btf.startId && (load<u8>(t.flagAddr(cur)) & F_ELIDED) != 0 && guard++ < btf.count) {
          cur = btf.kind(cur) == KIND_TYPEDEF ? btf.sizeOrType(cur) : 0;
        }
        store<u32>(t.newIds + (<usize>(id - btf.startId) << 2), this.mapId(t, cur));
      }
    }
    return next - 1;
  }

  /**
   * Write the tailored BTF (24-byte header, types, strings) into `out`, as
   * btfgen_get_btf then btf__raw_data. Fails as libbpf's btf__add_field
   * does on bitfields it cannot encode.
   */
  build(out: ByteSink): bool {
    const n = this.assignIds();
    this.typesKept = n;
    const b = new BtfBuilder(null);
    let ok = true;
    for (let ti = 0; ti < this.targets.length && ok; ti++) {
      const t = unchecked(this.targets[ti]);
      const btf = t.btf;
      const cnt = btf.typeCnt();
      for (let id = btf.startId; id < cnt; id++) {
        const f = load<u8>(t.flagAddr(id));
        if ((f & F_MARKED) == 0 || (f & F_ELIDED) != 0) continue;
        const p = btf.ownRec(id);
        const info = load<u32>(p, T_INFO);
        const k = infoKind(info, btf.wide);
        const nameOff = (f & F_NAMELESS) != 0 ? 0 : load<u32>(p, T_NAME);
        if (isComposite(k)) {
          ok = this.addComposite(b, t, id, p, k, nameOff, info);
        } else {
          ok = this.addCopy(b, t, id, p, k, infoVlen(info, btf.wide), nameOff);
        }
        if (!ok) break;
      }
    }
    if (ok) b.writeTo(out);
    b.dispose();
    return ok;
  }

  /** btf__add_struct/union + btf__add_field for each kept member. */
  private addComposite(b: BtfBuilder, t: Target, id: u32, p: usize, k: u32, nameOff: u32, info: u32): bool {
    const btf = t.btf;
    b.addComposite(k, nameOff == 0 ? 0 : b.addStr(btf.str(nameOff)), load<u32>(p, T_SIZE), false);
    const kflag = infoKflag(info);
    const vlen = infoVlen(info, btf.wide);
    let anyBitfield = false;
    for (let i: u32 = 0; i < vlen; i++) {
      if (!t.memberMarked(id, i)) continue;
      const m = p + COMMON_LEN + <usize>i * MEMBER_LEN;
      const off = load<u32>(m, 8);
      const bitOff = memberBitOffset(off, kflag);
      const bitSize = memberBitfieldSize(off, kflag);
      const isBitfield = bitSize != 0 || (bitOff & 7) != 0;
      // libbpf btf__add_field's checks (-EINVAL in bpftool).
      if (isBitfield && (bitSize == 0 || bitSize > 255 || bitOff > 0xffffff))
        return fail(Err.BAD_BITFIELD, -1, id, "member " + i.toString() + " of [" + id.toString() + "] is a bitfield libbpf cannot add");
      if (k == KIND_UNION && bitOff != 0)
        return fail(Err.BAD_MEMBER, -1, id, "member " + i.toString() + " of union [" + id.toString() + "] has a non-zero offset");
      const mName = load<u32>(m);
      b.addElem(mName == 0 ? 0 : b.addStr(btf.str(mName)), this.mapId(t, load<u32>(m, 4)), bitOff | (bitSize << 24));
      if (isBitfield) anyBitfield = true;
    }
    if (anyBitfield) b.setLastKflag(true);
    return true;
  }

  /** btf__add_type: the record copied, its strings re-added in field order, its ids renumbered. */
  private addCopy(b: BtfBuilder, t: Target, id: u32, p: usize, k: u32, vlen: u32, nameOff: u32): bool {
    const tl = trailingLen(k, vlen);
    if (tl < 0) return fail(Err.UNSUPPORTED, -1, id, "cannot copy a type of kind " + k.toString());
    const len = COMMON_LEN + <u32>tl;
    const nid = b.addRaw(p, len);
    const q = b.recOf(nid);
    const btf = t.btf;
    const ns = strFieldCount(k, vlen);
    for (let i: u32 = 0; i < ns; i++) {
      const a = strFieldAddr(q, k, i);
      const off = i == 0 ? nameOff : load<u32>(a);
      // addStr may grow the sink: store through a fresh address.
      const v = off == 0 ? 0 : b.addStr(btf.str(off));
      store<u32>(strFieldAddr(b.recOf(nid), k, i), v);
    }
    const r = b.recOf(nid);
    const ni = typeIdFieldCount(k, vlen);
    for (let i: u32 = 0; i < ni; i++) {
      const a = typeIdFieldAddr(r, k, i);
      store<u32>(a, this.mapId(t, load<u32>(a)));
    }
    return true;
  }

  dispose(): void {
    for (let i = 0; i < this.targets.length; i++) {
      const t = unchecked(this.targets[i]);
      t.btf.release();
      t.dispose();
    }
    this.targets.length = 0;
    this.guarded.dispose();
    this.stack.free();
    this.scratch.dispose();
  }
}
