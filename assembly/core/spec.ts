// CO-RE access specs and the matching rules of libbpf's relo_core.c
// (upstream f7081a6): bpf_core_parse_spec, bpf_core_spec_match with
// bpf_core_match_member, bpf_core_fields_are_compat,
// __bpf_core_types_are_compat, __bpf_core_types_match, and the essential
// name rule of libbpf.c (bpf_core_essential_name_len). Written from those
// functions; every deviation from them would be a wrong answer, so the
// comments name the libbpf step each branch follows.
//
// Recursion: types_are_compat and types_match recurse with libbpf's `level`
// (32, a constant) and loop with its `depth` (32); match_member recurses
// once per anonymous member level and stops when the spec reaches its 64
// entries. No depth here depends on the input beyond those constants.

import { Btf } from "../btf";
import {
  KIND_INT, KIND_PTR, KIND_ARRAY, KIND_STRUCT, KIND_UNION, KIND_ENUM, KIND_ENUM64, KIND_FWD,
  KIND_FLOAT, KIND_FUNC_PROTO, KIND_TYPEDEF, KIND_VOLATILE, KIND_CONST, KIND_RESTRICT,
  KIND_TYPE_TAG, KIND_DATASEC, KIND_VAR, KIND_DECL_TAG, KIND_UNKN,
  MEMBER_LEN, ENUM_LEN, ENUM64_LEN, PARAM_LEN, memberBitOffset, intEncoding, intOffset, INT_ENC_SIGNED,
} from "../format";
import { cstrlen } from "../bytes";
import {
  FIELD_BYTE_OFFSET, FIELD_RSHIFT_U64, TYPE_ID_LOCAL, TYPE_ID_TARGET, TYPE_EXISTS, TYPE_SIZE,
  TYPE_MATCHES, ENUMVAL_EXISTS, ENUMVAL_VALUE,
} from "./object";

/** BPF_CORE_SPEC_MAX_LEN */
export const SPEC_MAX: i32 = 64;

export const EINVAL: i32 = 22;
export const E2BIG: i32 = 7;
export const EOPNOTSUPP: i32 = 95;
export const ERANGE: i32 = 34;

export function isFieldBased(k: u32): bool { return k <= FIELD_RSHIFT_U64; }
export function isTypeBased(k: u32): bool {
  return k == TYPE_ID_LOCAL || k == TYPE_ID_TARGET || k == TYPE_EXISTS || k == TYPE_MATCHES || k == TYPE_SIZE;
}
export function isEnumvalBased(k: u32): bool { return k == ENUMVAL_EXISTS || k == ENUMVAL_VALUE; }

/**
 * struct bpf_core_spec: the high-level accessors (type id, index, name or
 * 0 for an array index), the raw access indices, and the bit offset.
 */
export class Spec {
  btf: Btf | null = null;
  rootId: u32 = 0;
  kind: u32 = 0;
  len: i32 = 0;
  accType: StaticArray<u32> = new StaticArray<u32>(SPEC_MAX);
  accIdx: StaticArray<u32> = new StaticArray<u32>(SPEC_MAX);
  /** Address of the accessor's name, 0 for none (libbpf's NULL). */
  accName: StaticArray<usize> = new StaticArray<usize>(SPEC_MAX);
  rawLen: i32 = 0;
  raw: StaticArray<i32> = new StaticArray<i32>(SPEC_MAX);
  bitOffset: u32 = 0;

  reset(btf: Btf, root: u32, kind: u32): void {
    this.btf = btf;
    this.rootId = root;
    this.kind = kind;
    this.len = 0;
    this.rawLen = 0;
    this.bitOffset = 0;
  }

  copyFrom(o: Spec): void {
    this.btf = o.btf;
    this.rootId = o.rootId;
    this.kind = o.kind;
    this.len = o.len;
    this.rawLen = o.rawLen;
    this.bitOffset = o.bitOffset;
    for (let i = 0; i < o.len; i++) {
      unchecked(this.accType[i] = o.accType[i]);
      unchecked(this.accIdx[i] = o.accIdx[i]);
      unchecked(this.accName[i] = o.accName[i]);
    }
    for (let i = 0; i < o.rawLen; i++) unchecked(this.raw[i] = o.raw[i]);
  }

  @inline push(type: u32, idx: u32, name: usize): void {
    const i = this.len;
    unchecked(this.accType[i] = type);
    unchecked(this.accIdx[i] = idx);
    unchecked(this.accName[i] = name);
    this.len = i + 1;
  }
}

// ---- type helpers (libbpf's btf.h inlines) ----------------------------------

@inline export function isMod(k: u32): bool {
  return k == KIND_VOLATILE || k == KIND_CONST || k == KIND_RESTRICT || k == KIND_TYPE_TAG;
}

/** skip_mods_and_typedefs: the id reached (bounded: a validated BTF has no loops). */
export function skip(b: Btf, id: u32): u32 {
  for (let guard = 0; guard < 1 << 20; guard++) {
    const k = b.kind(id);
    if (isMod(k) || k == KIND_TYPEDEF) id = b.sizeOrType(id);
    else return id;
  }
  return id;
}

@inline export function isComposite(k: u32): bool { return k == KIND_STRUCT || k == KIND_UNION; }
@inline export function isAnyEnum(k: u32): bool { return k == KIND_ENUM || k == KIND_ENUM64; }
/** btf_kind_core_compat */
@inline export function kindCompat(a: u32, b: u32): bool { return a == b || (isAnyEnum(a) && isAnyEnum(b)); }

@inline export function member(b: Btf, id: u32, i: u32): usize { return b.extra(id) + <usize>i * MEMBER_LEN; }
@inline export function memberBitOff(b: Btf, id: u32, i: u32): u32 {
  return memberBitOffset(load<u32>(member(b, id, i), 8), b.kflag(id));
}
/** Name offset of enumerator i of an ENUM or ENUM64. */
export function enumNameOff(b: Btf, id: u32, i: u32): u32 {
  return b.kind(id) == KIND_ENUM ? load<u32>(b.extra(id) + <usize>i * ENUM_LEN) : load<u32>(b.extra(id) + <usize>i * ENUM64_LEN);
}
/** Value of enumerator i as libbpf reads it into a __u64 (btf_enum.val is __s32, so ENUM values sign-extend). */
export function enumValue(b: Btf, id: u32, i: u32): u64 {
  if (b.kind(id) == KIND_ENUM) return <u64><i64>load<i32>(b.extra(id) + <usize>i * ENUM_LEN, 4);
  const e = b.extra(id) + <usize>i * ENUM64_LEN;
  return <u64>load<u32>(e, 4) | (<u64>load<u32>(e, 8) << 32);
}
@inline function intWord(b: Btf, id: u32): u32 { return load<u32>(b.extra(id)); }
@inline function vlen16(b: Btf, id: u32): u32 { return b.vlen(id); }

/** bpf_core_essential_name_len over a name of length n. */
export function essentialLen(p: usize, n: u32): u32 {
  for (let i = <i32>n - 5; i >= 0; i--) {
    const s = p + <usize>i;
    if (load<u8>(s) != 0x5f && load<u8>(s, 1) == 0x5f && load<u8>(s, 2) == 0x5f && load<u8>(s, 3) == 0x5f && load<u8>(s, 4) != 0x5f) return <u32>i + 1;
  }
  return n;
}

@inline export function essLenOf(p: usize): u32 { return essentialLen(p, cstrlen(p)); }

function memEq(a: usize, b: usize, n: u32): bool {
  for (let i: u32 = 0; i < n; i++) if (load<u8>(a + i) != load<u8>(b + i)) return false;
  return true;
}

/** Essential names equal (both lengths and the prefix), as libbpf compares candidates. */
export function essEq(a: usize, b: usize): bool {
  const la = essLenOf(a);
  const lb = essLenOf(b);
  return la == lb && memEq(a, b, la);
}

/**
 * btf__resolve_size: the size, or -EINVAL / -E2BIG. Pointers take the BTF's
 * pointer size (btf_ptr_sz: 8, the host's, when it cannot be told).
 */
export function resolveSize(b: Btf, id: u32): i64 {
  let nelems: u64 = 1;
  let size: i64 = -1;
  for (let depth = 0; depth < 32 && id != 0; depth++) {
    const k = b.kind(id);
    if (k == KIND_INT || k == KIND_STRUCT || k == KIND_UNION || k == KIND_ENUM || k == KIND_ENUM64 || k == KIND_DATASEC || k == KIND_FLOAT) {
      size = <i64>b.sizeOrType(id);
      break;
    } else if (k == KIND_PTR) {
      const ps = b.ptrSize();
      size = ps < 0 ? 8 : <i64>ps;
      break;
    } else if (k == KIND_TYPEDEF || isMod(k) || k == KIND_VAR || k == KIND_DECL_TAG) {
      id = b.sizeOrType(id);
    } else if (k == KIND_ARRAY) {
      const a = b.extra(id);
      const n = <u64>load<u32>(a, 8);
      if (nelems != 0 && n > <u64>0xffffffff / nelems) return -E2BIG;
      nelems *= n;
      id = load<u32>(a);
    } else {
      return -EINVAL;
    }
  }
  if (size < 0) return -EINVAL;
  if (nelems != 0 && <u64>size > <u64>0xffffffff / nelems) return -E2BIG;
  return <i64>(nelems * <u64>size);
}

// ---- bpf_core_parse_spec ------------------------------------------------------

/** Set by parseSpec when it failed on an accessor through a type that is neither composite nor array. */
export let parseUnexpectedKind: bool = false;

@inline function isSpace(c: u32): bool { return c == 0x20 || (c >= 9 && c <= 13); }

/**
 * Parse the access string at `s` for a relocation of `kind` on local type
 * `root` into `spec`. Returns 0 or a negative errno (libbpf's values).
 */
export function parseSpec(b: Btf, root: u32, s: usize, kind: u32, spec: Spec): i32 {
  parseUnexpectedKind = false;
  const c0 = <u32>load<u8>(s);
  if (c0 == 0 || c0 == 0x3a) return -EINVAL;
  spec.reset(b, root, kind);
  if (isTypeBased(kind)) {
    return (c0 == 0x30 && load<u8>(s, 1) == 0) ? 0 : -EINVAL;
  }
  // "0:1:2" -> raw, with sscanf("%d%n")'s rules: leading white space, a sign,
  // digits; a value past long's range clamps, then truncates to int.
  let p = s;
  while (load<u8>(p) != 0) {
    if (load<u8>(p) == 0x3a) p++;
    let q = p;
    while (isSpace(<u32>load<u8>(q))) q++;
    let neg = false;
    const sg = <u32>load<u8>(q);
    if (sg == 0x2b || sg == 0x2d) { neg = sg == 0x2d; q++; }
    const d0 = q;
    let v: u64 = 0;
    let clamped = false;
    while (true) {
      const d = <u32>load<u8>(q) - 0x30;
      if (d > 9) break;
      if (!clamped) {
        if (v > (<u64>0x7fffffffffffffff - <u64>d) / 10) clamped = true;
        else v = v * 10 + <u64>d;
      }
      q++;
    }
    if (q == d0) return -EINVAL;
    let lv: i64;
    if (clamped) lv = neg ? i64.MIN_VALUE : i64.MAX_VALUE;
    else lv = neg ? -<i64>v : <i64>v;
    const idx = <i32>lv;
    if (idx < 0) return -EINVAL;
    if (spec.rawLen == SPEC_MAX) return -E2BIG;
    unchecked(spec.raw[spec.rawLen] = idx);
    spec.rawLen++;
    p = q;
  }
  if (spec.rawLen == 0) return -EINVAL;

  let id = skip(b, root);
  let accIdx = <u32>unchecked(spec.raw[0]);
  spec.push(id, accIdx, 0);

  if (isEnumvalBased(kind)) {
    if (!isAnyEnum(b.kind(id)) || spec.rawLen > 1 || accIdx >= vlen16(b, id)) return -EINVAL;
    unchecked(spec.accName[0] = b.str(enumNameOff(b, id, accIdx)));
    return 0;
  }
  if (!isFieldBased(kind)) return -EINVAL;

  let sz = resolveSize(b, id);
  if (sz < 0) return <i32>sz;
  spec.bitOffset = <u32>(<u64>accIdx * <u64>sz * 8);

  for (let i = 1; i < spec.rawLen; i++) {
    id = skip(b, id);
    const k = b.kind(id);
    accIdx = <u32>unchecked(spec.raw[i]);
    if (isComposite(k)) {
      if (accIdx >= vlen16(b, id)) return -EINVAL;
      spec.bitOffset += memberBitOff(b, id, accIdx);
      const m = member(b, id, accIdx);
      const nameOff = load<u32>(m);
      if (nameOff != 0) {
        const name = b.str(nameOff);
        if (load<u8>(name) == 0) return -EINVAL;
        spec.push(id, accIdx, name);
      }
      id = load<u32>(m, 4);
    } else if (k == KIND_ARRAY) {
      const a = b.extra(id);
      id = skip(b, load<u32>(a));
      const flex = isFlexArr(b, spec, spec.len - 1, load<u32>(a, 8));
      if (!flex && accIdx >= load<u32>(a, 8)) return -EINVAL;
      spec.push(id, accIdx, 0);
      sz = resolveSize(b, id);
      if (sz < 0) return <i32>sz;
      spec.bitOffset += <u32>(<u64>accIdx * <u64>sz * 8);
    } else {
      parseUnexpectedKind = true;
      return -EINVAL;
    }
  }
  return 0;
}

/** is_flex_arr: an array of 0 elements that is the last member of the struct holding it (accessor `a`). */
function isFlexArr(b: Btf, spec: Spec, a: i32, nelems: u32): bool {
  if (unchecked(spec.accName[a]) == 0 || nelems > 0) return false;
  const t = unchecked(spec.accType[a]);
  return unchecked(spec.accIdx[a]) == vlen16(b, t) - 1;
}

// ---- bpf_core_fields_are_compat ------------------------------------------------

export function fieldsAreCompat(lb: Btf, lid: u32, tb: Btf, tid: u32): i32 {
  for (let guard = 0; guard < 1 << 20; guard++) {
    lid = skip(lb, lid);
    tid = skip(tb, tid);
    const lk = lb.kind(lid);
    const tk = tb.kind(tid);
    if (isComposite(lk) && isComposite(tk)) return 1;
    if (!kindCompat(lk, tk)) return 0;
    switch (lk) {
      case KIND_PTR: case KIND_FLOAT: return 1;
      case KIND_FWD: case KIND_ENUM64: case KIND_ENUM: {
        const ln = lb.name(lid);
        const tn = tb.name(tid);
        const ll = essLenOf(ln);
        const tl = essLenOf(tn);
        return (ll == 0 || tl == 0 || (ll == tl && memEq(ln, tn, ll))) ? 1 : 0;
      }
      case KIND_INT:
        return (intOffset(intWord(lb, lid)) == 0 && intOffset(intWord(tb, tid)) == 0) ? 1 : 0;
      case KIND_ARRAY:
        lid = load<u32>(lb.extra(lid));
        tid = load<u32>(tb.extra(tid));
        break;
      default:
        return 0;
    }
  }
  return -EINVAL;
}

// ---- bpf_core_match_member / bpf_core_spec_match -------------------------------------

/** The target type the last matched member has (match_member's next_targ_id). */
let nextTargId: u32 = 0;

function matchMember(lb: Btf, lType: u32, lIdx: u32, tb: Btf, tid: u32, spec: Spec): i32 {
  tid = skip(tb, tid);
  if (!isComposite(tb.kind(tid))) return 0;
  const lm = member(lb, lType, lIdx);
  const lname = lb.str(load<u32>(lm));
  const n = vlen16(tb, tid);
  for (let i: u32 = 0; i < n; i++) {
    const bitOff = memberBitOff(tb, tid, i);
    if (spec.rawLen == SPEC_MAX) return -E2BIG;
    spec.bitOffset += bitOff;
    unchecked(spec.raw[spec.rawLen] = <i32>i);
    spec.rawLen++;
    const m = member(tb, tid, i);
    const tname = tb.str(load<u32>(m));
    if (load<u8>(tname) == 0) {
      const found = matchMember(lb, lType, lIdx, tb, load<u32>(m, 4), spec);
      if (found != 0) return found;
    } else if (cstrEqual(lname, tname)) {
      spec.push(tid, i, tname);
      nextTargId = load<u32>(m, 4);
      const found = fieldsAreCompat(lb, load<u32>(lm, 4), tb, load<u32>(m, 4));
      if (found == 0) spec.len--;
      return found;
    }
    spec.bitOffset -= bitOff;
    spec.rawLen--;
  }
  return 0;
}

function cstrEqual(a: usize, b: usize): bool {
  while (true) {
    const x = load<u8>(a);
    if (x != load<u8>(b)) return false;
    if (x == 0) return true;
    a++; b++;
  }
}

/**
 * bpf_core_spec_match: does the local spec match candidate `tid` of `tb`?
 * 1 with `targ` filled, 0, or a negative errno.
 */
export function specMatch(local: Spec, tb: Btf, tid: u32, targ: Spec): i32 {
  const lb = local.btf!;
  targ.reset(tb, tid, local.kind);
  if (isTypeBased(local.kind)) {
    if (local.kind == TYPE_MATCHES) return typesMatch(lb, local.rootId, tb, tid, false, 32);
    return typesAreCompat(lb, local.rootId, tb, tid, 32);
  }
  if (isEnumvalBased(local.kind)) {
    tid = skip(tb, tid);
    if (!isAnyEnum(tb.kind(tid))) return 0;
    const lname = unchecked(local.accName[0]);
    const ll = essLenOf(lname);
    const n = vlen16(tb, tid);
    for (let i: u32 = 0; i < n; i++) {
      const tname = tb.str(enumNameOff(tb, tid, i));
      if (essLenOf(tname) != ll) continue;
      if (memEq(lname, tname, ll)) {
        targ.push(tid, i, tname);
        unchecked(targ.raw[targ.rawLen] = <i32>i);
        targ.rawLen++;
        return 1;
      }
    }
    return 0;
  }
  if (!isFieldBased(local.kind)) return -EINVAL;
  for (let i = 0; i < local.len; i++) {
    tid = skip(tb, tid);
    const lname = unchecked(local.accName[i]);
    const lidx = unchecked(local.accIdx[i]);
    if (lname != 0) {
      const m = matchMember(lb, unchecked(local.accType[i]), lidx, tb, tid, targ);
      if (m <= 0) return m;
      tid = nextTargId;
    } else {
      if (i > 0) {
        if (tb.kind(tid) != KIND_ARRAY) return 0;
        const a = tb.extra(tid);
        const nelems = load<u32>(a, 8);
        const flex = isFlexArr(tb, targ, i - 1, nelems);
        if (!flex && lidx >= nelems) return 0;
        tid = skip(tb, load<u32>(a));
      }
      if (targ.rawLen == SPEC_MAX) return -E2BIG;
      targ.push(tid, lidx, 0);
      unchecked(targ.raw[targ.rawLen] = <i32>lidx);
      targ.rawLen++;
      const sz = resolveSize(tb, tid);
      if (sz < 0) return <i32>sz;
      targ.bitOffset += <u32>(<u64>lidx * <u64>(<u32><i32>sz) * 8);
    }
  }
  return 1;
}

// ---- __bpf_core_types_are_compat ------------------------------------------------------

export function typesAreCompat(lb: Btf, lid: u32, tb: Btf, tid: u32, level: i32): i32 {
  let depth = 32;
  if (!kindCompat(lb.kind(lid), tb.kind(tid))) return 0;
  while (true) {
    depth--;
    if (depth < 0) return -EINVAL;
    lid = skip(lb, lid);
    tid = skip(tb, tid);
    const lk = lb.kind(lid);
    const tk = tb.kind(tid);
    if (!kindCompat(lk, tk)) return 0;
    switch (lk) {
      case KIND_UNKN: case KIND_STRUCT: case KIND_UNION: case KIND_ENUM: case KIND_FWD: case KIND_ENUM64:
        return 1;
      case KIND_INT:
        return (intOffset(intWord(lb, lid)) == 0 && intOffset(intWord(tb, tid)) == 0) ? 1 : 0;
      case KIND_PTR:
        lid = lb.sizeOrType(lid);
        tid = tb.sizeOrType(tid);
        break;
      case KIND_ARRAY:
        lid = load<u32>(lb.extra(lid));
        tid = load<u32>(tb.extra(tid));
        break;
      case KIND_FUNC_PROTO: {
        const n = vlen16(lb, lid);
        if (n != vlen16(tb, tid)) return 0;
        const lp = lb.extra(lid);
        const tp = tb.extra(tid);
        for (let i: u32 = 0; i < n; i++) {
          if (level <= 0) return -EINVAL;
          const a = skip(lb, load<u32>(lp + <usize>i * PARAM_LEN, 4));
          const c = skip(tb, load<u32>(tp + <usize>i * PARAM_LEN, 4));
          const err = typesAreCompat(lb, a, tb, c, level - 1);
          if (err <= 0) return err;
        }
        lid = skip(lb, lb.sizeOrType(lid));
        tid = skip(tb, tb.sizeOrType(tid));
        break;
      }
      default:
        return 0;
    }
  }
  return 0;
}

// ---- __bpf_core_types_match ------------------------------------------------------------

/** bpf_core_names_match */
function namesMatch(lb: Btf, loff: u32, tb: Btf, toff: u32): bool {
  const ln = lb.str(loff);
  const tn = tb.str(toff);
  if (load<u8>(tn) == 0) return load<u8>(ln) == 0;
  const tl = essLenOf(tn);
  const ll = essLenOf(ln);
  return tl == ll && memEq(ln, tn, ll);
}

function enumsMatch(lb: Btf, lid: u32, tb: Btf, tid: u32): i32 {
  if (lb.sizeOrType(lid) != tb.sizeOrType(tid)) return 0;
  const ln = vlen16(lb, lid);
  const tn = vlen16(tb, tid);
  if (ln > tn) return 0;
  for (let i: u32 = 0; i < ln; i++) {
    const lo = enumNameOff(lb, lid, i);
    let matched = false;
    for (let j: u32 = 0; j < tn; j++) {
      if (namesMatch(lb, lo, tb, enumNameOff(tb, tid, j))) { matched = true; break; }
    }
    if (!matched) return 0;
  }
  return 1;
}

function compositesMatch(lb: Btf, lid: u32, tb: Btf, tid: u32, behindPtr: bool, level: i32): i32 {
  const ln = vlen16(lb, lid);
  const tn = vlen16(tb, tid);
  if (ln > tn) return 0;
  for (let i: u32 = 0; i < ln; i++) {
    const lm = member(lb, lid, i);
    let matched = false;
    for (let j: u32 = 0; j < tn; j++) {
      const tm = member(tb, tid, j);
      if (!namesMatch(lb, load<u32>(lm), tb, load<u32>(tm))) continue;
      const err = typesMatch(lb, load<u32>(lm, 4), tb, load<u32>(tm, 4), behindPtr, level - 1);
      if (err < 0) return err;
      if (err > 0) { matched = true; break; }
    }
    if (!matched) return 0;
  }
  return 1;
}

export function typesMatch(lb: Btf, lid: u32, tb: Btf, tid: u32, behindPtr: bool, level: i32): i32 {
  if (level <= 0) return -EINVAL;
  let depth = 32;
  while (true) {
    depth--;
    if (depth < 0) return -EINVAL;
    lid = skip(lb, lid);
    tid = skip(tb, tid);
    if (!namesMatch(lb, lb.nameOff(lid), tb, tb.nameOff(tid))) return 0;
    const lk = lb.kind(lid);
    const tk = tb.kind(tid);
    switch (lk) {
      case KIND_UNKN:
        return lk == tk ? 1 : 0;
      case KIND_FWD: {
        const lf = lb.kflag(lid);
        if (behindPtr) {
          if (lk == tk) return lf == tb.kflag(tid) ? 1 : 0;
          return ((tk == KIND_STRUCT && !lf) || (tk == KIND_UNION && lf)) ? 1 : 0;
        }
        if (lk != tk) return 0;
        return lf == tb.kflag(tid) ? 1 : 0;
      }
      case KIND_ENUM: case KIND_ENUM64:
        if (!isAnyEnum(tk)) return 0;
        return enumsMatch(lb, lid, tb, tid);
      case KIND_STRUCT: case KIND_UNION:
        if (behindPtr) {
          if (lk == tk) return 1;
          if (tk != KIND_FWD) return 0;
          return (lk == KIND_UNION) == tb.kflag(tid) ? 1 : 0;
        }
        if (lk != tk) return 0;
        return compositesMatch(lb, lid, tb, tid, behindPtr, level);
      case KIND_INT: {
        if (lk != tk) return 0;
        const ls = intEncoding(intWord(lb, lid)) & INT_ENC_SIGNED;
        const ts = intEncoding(intWord(tb, tid)) & INT_ENC_SIGNED;
        return (lb.sizeOrType(lid) == tb.sizeOrType(tid) && ls == ts) ? 1 : 0;
      }
      case KIND_PTR:
        if (lk != tk) return 0;
        behindPtr = true;
        lid = lb.sizeOrType(lid);
        tid = tb.sizeOrType(tid);
        break;
      case KIND_ARRAY: {
        if (lk != tk) return 0;
        const la = lb.extra(lid);
        const ta = tb.extra(tid);
        if (load<u32>(la, 8) != load<u32>(ta, 8)) return 0;
        lid = load<u32>(la);
        tid = load<u32>(ta);
        break;
      }
      case KIND_FUNC_PROTO: {
        if (lk != tk) return 0;
        const n = vlen16(lb, lid);
        if (n != vlen16(tb, tid)) return 0;
        const lp = lb.extra(lid);
        const tp = tb.extra(tid);
        for (let i: u32 = 0; i < n; i++) {
          const err = typesMatch(lb, load<u32>(lp + <usize>i * PARAM_LEN, 4), tb, load<u32>(tp + <usize>i * PARAM_LEN, 4), behindPtr, level - 1);
          if (err <= 0) return err;
        }
        lid = lb.sizeOrType(lid);
        tid = tb.sizeOrType(tid);
        break;
      }
      default:
        return 0;
    }
  }
  return 0;
}

