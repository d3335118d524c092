// Details of a changed key for `btfkit diff` (compare.ts decides which keys
// changed): members of a struct or union matched by name (anonymous ones by
// their order among the anonymous), enumerators and parameters by name, and
// one-line C-ish labels of the types involved, all as detail records:
//   detail   [code, a0..a6] str(name) str(old label) str(new label)
//   str(s)   [byte length] bytes, zero-padded to 4
// Shapes of member, parameter and return types come from the sides' memos
// (computed with their keys' own shapes), so "retyped" means exactly "another
// shape" in the sense of the definition.

import { Btf } from "../btf";
import { ByteSink } from "../sink";
import { U32Vec } from "../vec";
import { U32Map } from "../u32map";
import { cstrHash, cstreq, cstrlen } from "../bytes";
import { ShapeSide } from "./shapes";
import {
  KIND_ARRAY, KIND_CONST, KIND_DECL_TAG, KIND_ENUM, KIND_ENUM64, KIND_FUNC,
  KIND_FUNC_PROTO, KIND_FWD, KIND_PTR, KIND_RESTRICT, KIND_STRUCT, KIND_TYPE_TAG,
  KIND_TYPEDEF, KIND_UNION, KIND_VOLATILE, MEMBER_LEN, PARAM_LEN, ENUM_LEN, ENUM64_LEN,
  memberBitOffset, memberBitfieldSize,
} from "../format";

// Detail codes.
export const D_SAME: u32 = 0; //       member/param unchanged (listed for the layout view)
export const D_ADDED: u32 = 1;
export const D_REMOVED: u32 = 2;
export const D_MOVED: u32 = 3; //      member offset / param position
export const D_RESIZED: u32 = 4; //    member byte size or bitfield size
export const D_RETYPED: u32 = 5; //    member/param type shape, same size
export const D_RENUMBERED: u32 = 6; // enumerator value
export const D_RETURN: u32 = 7; //     function return type
export const D_TARGET: u32 = 8; //     typedef target
export const D_LINKAGE: u32 = 9; //    a0 old, a3 new
export const D_SIZE: u32 = 10; //      struct/union/enum size: a0 old, a3 new
export const D_SIGN: u32 = 11; //      enum signedness: a0 old, a3 new
export const D_FWD: u32 = 12; //       fwd struct/union: a0 old, a3 new (1 = union)

// Member flags (a6).
const F_MOVED: u32 = 1;
const F_RESIZED: u32 = 2;
const F_RETYPED: u32 = 4;

const NONE: u32 = 0xffffffff;

/** A string field: [byte length] bytes padded to 4. */
export function putStr(out: ByteSink, p: usize): void {
  const n = p == 0 ? 0 : cstrlen(p);
  out.u32le(n);
  if (n > 0) out.bytes(p, n);
  while ((out.len & 3) != 0) out.byte(0);
}

/** A label string written by `label` into the scratch sink. */
const scratch = new ByteSink(256);

function putLabel(out: ByteSink, b: Btf | null, id: u32): void {
  if (b === null) { out.u32le(0); return; }
  scratch.len = 0;
  label(b, id, scratch);
  out.u32le(scratch.len);
  out.bytes(scratch.ptr, scratch.len);
  while ((out.len & 3) != 0) out.byte(0);
}

/** The chain `label` follows: allocated once, not per label (tens of thousands per diff). */
const labelFronts = new StaticArray<u32>(32);
const labelBacks = new StaticArray<u32>(32);

/**
 * A one-line C-ish name of a type for a person ("struct sock *",
 * "char const *", "u8[16]", "struct {...}"): the explorer's typeLabel, in
 * the core so diff records carry it. Follows at most 32 links.
 */
export function label(b: Btf, id: u32, s: ByteSink): void {
  // Suffixes: pointer-like ones go in front of those seen before, array
  // ones after, so the output is base, fronts reversed, backs in order.
  const fronts = labelFronts, backs = labelBacks;
  let nf = 0, nbk = 0;
  let cur = id;
  let step = 0;
  for (; step < 32; step++) {
    if (cur == 0 || cur >= b.typeCnt()) break;
    const k = b.kind(cur);
    if (k == KIND_PTR || k == KIND_CONST || k == KIND_VOLATILE || k == KIND_RESTRICT || k == KIND_TYPE_TAG) {
      unchecked(fronts[nf++] = cur);
      cur = b.sizeOrType(cur);
    } else if (k == KIND_ARRAY) {
      unchecked(backs[nbk++] = cur);
      cur = load<u32>(b.extra(cur));
    } else break;
  }
  if (step == 32) s.str("...");
  else if (cur == 0) s.str("void");
  else if (cur >= b.typeCnt()) s.str("<bad id>");
  else baseLabel(b, cur, s);
  for (let i = nf - 1; i >= 0; i--) {
    const t = unchecked(fronts[i]);
    const k = b.kind(t);
    if (k == KIND_PTR) s.str(" *");
    else if (k == KIND_CONST) s.str(" const");
    else if (k == KIND_VOLATILE) s.str(" volatile");
    else if (k == KIND_RESTRICT) s.str(" restrict");
    else { s.str(" __tag("); s.cstr(b.name(t)); s.byte(0x29); }
  }
  for (let i = 0; i < nbk; i++) {
    s.byte(0x5b);
    s.u32dec(load<u32>(b.extra(unchecked(backs[i])), 8));
    s.byte(0x5d);
  }
}

function baseLabel(b: Btf, t: u32, s: ByteSink): void {
  const k = b.kind(t);
  const off = b.nameOff(t);
  const hasName = off != 0 && load<u8>(b.str(off)) != 0;
  switch (k) {
    case KIND_STRUCT: s.str("struct "); break;
    case KIND_UNION: s.str("union "); break;
    case KIND_ENUM: case KIND_ENUM64: s.str("enum "); break;
    case KIND_FWD: s.str(b.kflag(t) ? "union " : "struct "); break;
    case KIND_FUNC_PROTO: {
      const n = b.vlen(t);
      s.str("fn(");
      s.u32dec(n);
      s.str(n == 1 ? " arg)" : " args)");
      return;
    }
    case KIND_DECL_TAG: s.str("tag "); break;
    default: break;
  }
  if (hasName) s.cstr(b.str(off));
  else if (k == KIND_STRUCT || k == KIND_UNION || k == KIND_ENUM || k == KIND_ENUM64) s.str("{...}");
  else s.str("(anon)");
}

/** Detail record header: code and seven words. */
function detail(out: ByteSink, code: u32, a0: u32, a1: u32, a2: u32, a3: u32, a4: u32, a5: u32, a6: u32): void {
  out.u32le(code); out.u32le(a0); out.u32le(a1); out.u32le(a2);
  out.u32le(a3); out.u32le(a4); out.u32le(a5); out.u32le(a6);
}

/** The details of a changed key between old type `x` and new type `y`; returns how many. */
export function describe(A: ShapeSide, x: u32, B: ShapeSide, y: u32, out: ByteSink): u32 {
  const a = A.btf, b = B.btf;
  const kind = a.kind(x);
  switch (kind) {
    case KIND_STRUCT: case KIND_UNION: return describeLayout(A, x, B, y, out);
    case KIND_ENUM: case KIND_ENUM64: return describeEnum(a, x, b, y, out);
    case KIND_FUNC: return describeFunc(A, x, B, y, out);
    case KIND_TYPEDEF:
      detail(out, D_TARGET, 0, 0, 0, 0, 0, 0, 0);
      putStr(out, 0);
      putLabel(out, a, a.sizeOrType(x));
      putLabel(out, b, b.sizeOrType(y));
      return 1;
    case KIND_FWD:
      detail(out, D_FWD, a.kflag(x) ? 1 : 0, 0, 0, b.kflag(y) ? 1 : 0, 0, 0, 0);
      putStr(out, 0); putStr(out, 0); putStr(out, 0);
      return 1;
    default: return 0;
  }
}

/** Name chains over the members (or params) of one side: hash -> first index, next[]. */
class NameChains {
  heads: U32Map;
  next: U32Vec;
  constructor(n: u32) {
    this.heads = new U32Map(n);
    this.next = new U32Vec(n);
  }
  add(i: u32, name: usize): void {
    let h = cstrHash(name);
    if (h == 0xffffffff) h = 0;
    this.next.push(this.heads.get(h, NONE));
    this.heads.set(h, i);
  }
  free(): void { this.heads.dispose(); this.next.free(); }
}

/** Index in `b`'s element list (addresses at stride) with the name at `name`, or NONE. */
function findByName(chains: NameChains, name: usize, b: Btf, first: usize, stride: u32, used: usize): u32 {
  let h = cstrHash(name);
  if (h == 0xffffffff) h = 0;
  let j = chains.heads.get(h, NONE);
  while (j != NONE) {
    if (load<u8>(used + j) == 0 && cstreq(b.str(load<u32>(first + <usize>j * stride)), name)) return j;
    j = chains.next.get(j);
  }
  return NONE;
}

@inline function hasStr(b: Btf, off: u32): bool { return off != 0 && load<u8>(b.str(off)) != 0; }

function ptrSizeOf(b: Btf): i32 { const p = b.ptrSize(); return p > 0 ? p : 8; }

function describeLayout(A: ShapeSide, x: u32, B: ShapeSide, y: u32, out: ByteSink): u32 {
  const a = A.btf, b = B.btf;
  let nd: u32 = 0;
  const sa = a.sizeOrType(x), sb = b.sizeOrType(y);
  if (sa != sb) {
    detail(out, D_SIZE, sa, 0, 0, sb, 0, 0, 0);
    putStr(out, 0); putStr(out, 0); putStr(out, 0);
    nd++;
  }
  const pa = a.extra(x), pb = b.extra(y);
  const na = a.vlen(x), nb = b.vlen(y);
  const fa = a.kflag(x), fb = b.kflag(y);
  const psA = ptrSizeOf(a), psB = ptrSizeOf(b);
  // matchOfB[j] = index in A, or NONE; usedA marks A members matched.
  const matchOfB = heap.alloc((<usize>nb << 2) + 4);
  memory.fill(matchOfB, 0xff, (<usize>nb << 2) + 4);
  const usedA = heap.alloc(<usize>na + 1);
  memory.fill(usedA, 0, <usize>na + 1);
  const chains = new NameChains(na);
  for (let i: u32 = 0; i < na; i++) chains.add(i, a.str(load<u32>(pa + <usize>i * MEMBER_LEN)));
  // Named members by name; anonymous ones by their order among the anonymous.
  let nextAnonA: u32 = 0;
  for (let j: u32 = 0; j < nb; j++) {
    const off = load<u32>(pb + <usize>j * MEMBER_LEN);
    let i: u32 = NONE;
    if (hasStr(b, off)) {
      i = findByName(chains, b.str(off), a, pa, MEMBER_LEN, usedA);
    } else {
      while (nextAnonA < na && hasStr(a, load<u32>(pa + <usize>nextAnonA * MEMBER_LEN))) nextAnonA++;
      if (nextAnonA < na) i = nextAnonA++;
    }
    if (i != NONE) { store<u8>(usedA + i, 1); store<u32>(matchOfB + (<usize>j << 2), i); }
  }
  for (let j: u32 = 0; j < nb; j++) {
    const mb = pb + <usize>j * MEMBER_LEN;
    const tb = load<u32>(mb, 4);
    const rb = load<u32>(mb, 8);
    const ob = memberBitOffset(rb, fb), bb = memberBitfieldSize(rb, fb);
    const zb = <u32>b.resolveSize(tb, psB);
    const i = load<u32>(matchOfB + (<usize>j << 2));
    if (i == NONE) {
      detail(out, D_ADDED, NONE, 0, 0, ob, bb, zb, 0);
      putStr(out, b.str(load<u32>(mb)));
      putLabel(out, null, 0);
      putLabel(out, b, tb);
      nd++;
      continue;
    }
    const ma = pa + <usize>i * MEMBER_LEN;
    const ta = load<u32>(ma, 4);
    const ra = load<u32>(ma, 8);
    const oa = memberBitOffset(ra, fa), ba = memberBitfieldSize(ra, fa);
    const za = <u32>a.resolveSize(ta, psA);
    let flags: u32 = 0;
    if (oa != ob) flags |= F_MOVED;
    if (ba != bb || za != zb) flags |= F_RESIZED;
    if (A.known(ta) != B.known(tb)) flags |= F_RETYPED;
    const code = (flags & F_RESIZED) != 0 ? D_RESIZED : (flags & F_RETYPED) != 0 ? D_RETYPED : (flags & F_MOVED) != 0 ? D_MOVED : D_SAME;
    detail(out, code, oa, ba, za, ob, bb, zb, flags);
    putStr(out, b.str(load<u32>(mb)));
    putLabel(out, a, ta);
    putLabel(out, b, tb);
    nd++;
  }
  for (let i: u32 = 0; i < na; i++) {
    if (load<u8>(usedA + i) != 0) continue;
    const ma = pa + <usize>i * MEMBER_LEN;
    const ta = load<u32>(ma, 4);
    const ra = load<u32>(ma, 8);
    detail(out, D_REMOVED, memberBitOffset(ra, fa), memberBitfieldSize(ra, fa), <u32>a.resolveSize(ta, psA), NONE, 0, 0, 0);
    putStr(out, a.str(load<u32>(ma)));
    putLabel(out, a, ta);
    putLabel(out, null, 0);
    nd++;
  }
  chains.free();
  heap.free(matchOfB);
  heap.free(usedA);
  return nd;
}

/** An enumerator's value as (lo, hi) of its 64-bit value. */
@inline function enumLo(b: Btf, t: u32, i: u32): u32 {
  return b.kind(t) == KIND_ENUM ? load<u32>(b.extra(t) + <usize>i * ENUM_LEN, 4) : load<u32>(b.extra(t) + <usize>i * ENUM64_LEN, 4);
}
@inline function enumHi(b: Btf, t: u32, i: u32): u32 {
  if (b.kind(t) == KIND_ENUM) {
    const v = load<u32>(b.extra(t) + <usize>i * ENUM_LEN, 4);
    return b.kflag(t) && (v >> 31) != 0 ? 0xffffffff : 0;
  }
  return load<u32>(b.extra(t) + <usize>i * ENUM64_LEN, 8);
}
@inline function enumNameAt(b: Btf, t: u32, i: u32): usize {
  return b.str(load<u32>(b.extra(t) + <usize>i * (b.kind(t) == KIND_ENUM ? ENUM_LEN : ENUM64_LEN)));
}

function describeEnum(a: Btf, x: u32, b: Btf, y: u32, out: ByteSink): u32 {
  let nd: u32 = 0;
  const sga: u32 = a.kflag(x) ? 1 : 0, sgb: u32 = b.kflag(y) ? 1 : 0;
  const sa = a.sizeOrType(x), sb = b.sizeOrType(y);
  if (sa != sb) { detail(out, D_SIZE, sa, 0, 0, sb, 0, 0, 0); putStr(out, 0); putStr(out, 0); putStr(out, 0); nd++; }
  if (sga != sgb) { detail(out, D_SIGN, sga, 0, 0, sgb, 0, 0, 0); putStr(out, 0); putStr(out, 0); putStr(out, 0); nd++; }
  const na = a.vlen(x), nb = b.vlen(y);
  const stride = a.kind(x) == KIND_ENUM ? ENUM_LEN : ENUM64_LEN;
  const usedA = heap.alloc(<usize>na + 1);
  memory.fill(usedA, 0, <usize>na + 1);
  const chains = new NameChains(na);
  for (let i: u32 = 0; i < na; i++) chains.add(i, enumNameAt(a, x, i));
  for (let j: u32 = 0; j < nb; j++) {
    const nm = enumNameAt(b, y, j);
    const i = findByName(chains, nm, a, a.extra(x), stride, usedA);
    const lob = enumLo(b, y, j), hib = enumHi(b, y, j);
    if (i == NONE) {
      detail(out, D_ADDED, 0, 0, sga, lob, hib, sgb, 0);
      putStr(out, nm); putStr(out, 0); putStr(out, 0);
      nd++;
      continue;
    }
    store<u8>(usedA + i, 1);
    const loa = enumLo(a, x, i), hia = enumHi(a, x, i);
    if (loa != lob || hia != hib) {
      detail(out, D_RENUMBERED, loa, hia, sga, lob, hib, sgb, 0);
      putStr(out, nm); putStr(out, 0); putStr(out, 0);
      nd++;
    }
  }
  for (let i: u32 = 0; i < na; i++) {
    if (load<u8>(usedA + i) != 0) continue;
    detail(out, D_REMOVED, enumLo(a, x, i), enumHi(a, x, i), sga, 0, 0, sgb, 0);
    putStr(out, enumNameAt(a, x, i)); putStr(out, 0); putStr(out, 0);
    nd++;
  }
  chains.free();
  heap.free(usedA);
  return nd;
}

function describeFunc(A: ShapeSide, x: u32, B: ShapeSide, y: u32, out: ByteSink): u32 {
  const a = A.btf, b = B.btf;
  let nd: u32 = 0;
  const la = a.vlen(x), lb = b.vlen(y);
  if (la != lb) { detail(out, D_LINKAGE, la, 0, 0, lb, 0, 0, 0); putStr(out, 0); putStr(out, 0); putStr(out, 0); nd++; }
  const px = a.sizeOrType(x), py = b.sizeOrType(y);
  if (a.kind(px) != KIND_FUNC_PROTO || b.kind(py) != KIND_FUNC_PROTO) return nd;
  const ra = a.sizeOrType(px), rb = b.sizeOrType(py);
  if (A.known(ra) != B.known(rb)) {
    detail(out, D_RETURN, 0, 0, 0, 0, 0, 0, 0);
    putStr(out, 0); putLabel(out, a, ra); putLabel(out, b, rb);
    nd++;
  }
  const na = a.vlen(px), nb = b.vlen(py);
  const pa = a.extra(px), pbb = b.extra(py);
  const usedA = heap.alloc(<usize>na + 1);
  memory.fill(usedA, 0, <usize>na + 1);
  const chains = new NameChains(na);
  for (let i: u32 = 0; i < na; i++) chains.add(i, a.str(load<u32>(pa + <usize>i * PARAM_LEN)));
  for (let j: u32 = 0; j < nb; j++) {
    const q = pbb + <usize>j * PARAM_LEN;
    const off = load<u32>(q);
    // Named parameters by name; unnamed ones by position.
    let i: u32 = NONE;
    if (hasStr(b, off)) i = findByName(chains, b.str(off), a, pa, PARAM_LEN, usedA);
    else if (j < na && load<u8>(usedA + j) == 0 && !hasStr(a, load<u32>(pa + <usize>j * PARAM_LEN))) i = j;
    const tb = load<u32>(q, 4);
    if (i == NONE) {
      detail(out, D_ADDED, NONE, 0, 0, j, 0, 0, 0);
      putStr(out, b.str(off)); putLabel(out, null, 0); putLabel(out, b, tb);
      nd++;
      continue;
    }
    store<u8>(usedA + i, 1);
    const ta = load<u32>(pa + <usize>i * PARAM_LEN, 4);
    let flags: u32 = 0;
    if (i != j) flags |= F_MOVED;
    if (A.known(ta) != B.known(tb)) flags |= F_RETYPED;
    const code = (flags & F_RETYPED) != 0 ? D_RETYPED : (flags & F_MOVED) != 0 ? D_MOVED : D_SAME;
    detail(out, code, i, 0, 0, j, 0, 0, flags);
    putStr(out, b.str(off)); putLabel(out, a, ta); putLabel(out, b, tb);
    nd++;
  }
  for (let i: u32 = 0; i < na; i++) {
    if (load<u8>(usedA + i) != 0) continue;
    const q = pa + <usize>i * PARAM_LEN;
    detail(out, D_REMOVED, i, 0, 0, NONE, 0, 0, 0);
    putStr(out, a.str(load<u32>(q))); putLabel(out, a, load<u32>(q, 4)); putLabel(out, null, 0);
    nd++;
  }
  chains.free();
  heap.free(usedA);
  return nd;
}
