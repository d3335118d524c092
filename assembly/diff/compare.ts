// `btfkit diff`: which keyed types were added, removed or changed between
// BTFs (issue 15). Every BTF of a session computes its keyed types' own
// shapes into one shared ShapeTable (shapes.ts); a key is the S_NAMED node
// (kind, name), so keys and shapes are plain integers across BTFs. Comparing
// two BTFs groups their (key, own shape) entries by key (an array indexed by
// node id, no sort over the table) and compares each key's own shapes as
// sets. Changed keys then get details: members, enumerators, parameters.
//
// The result is compact little-endian u32 records the host decodes:
//   header   [records, keys in old, keys in new, unchanged keys, names offset]
//   record   [status, kind, old id, new id, old count, new count, details]
//   detail   [code, a0..a6] str(name) str(old label) str(new label)
//   str(s)   [byte length] bytes, zero-padded to 4
//   names    at `names offset` to the end: each record's key name, NUL-ended,
//            in record order (one decode on the host for thousands of keys)
// status: 1 added, 2 removed, 3 changed; old/new id: the first type under the
// key on that side whose own shape the other side lacks (0 when none).

import { Btf } from "../btf";
import { ByteSink } from "../sink";
import { U32Vec } from "../vec";
import { U32Map } from "../u32map";
import { cstrHash, cstreq, cstrcmp, cstrlen } from "../bytes";
import { ShapeSide, ShapeTable, isKeyedKind } from "./shapes";
import {
  KIND_ARRAY, KIND_CONST, KIND_DECL_TAG, KIND_ENUM, KIND_ENUM64, KIND_FLOAT, KIND_FUNC,
  KIND_FUNC_PROTO, KIND_FWD, KIND_INT, KIND_PTR, KIND_RESTRICT, KIND_STRUCT, KIND_TYPE_TAG,
  KIND_TYPEDEF, KIND_UNION, KIND_VOLATILE, MEMBER_LEN, PARAM_LEN, ENUM_LEN, ENUM64_LEN,
  T_INFO, T_NAME, infoKflag, kindName, memberBitOffset, memberBitfieldSize,
} from "../format";

export const ST_ADDED: u32 = 1;
export const ST_REMOVED: u32 = 2;
export const ST_CHANGED: u32 = 3;

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

/** One BTF in a session: its shapes and its keyed entries (key, own shape, id). */
export class DiffSide {
  shapes: ShapeSide;
  entries: U32Vec = new U32Vec(1024);
  constructor(public btf: Btf, table: ShapeTable) {
    btf.retain();
    this.shapes = new ShapeSide(btf, table);
  }
  free(): void {
    this.shapes.free();
    this.entries.free();
    this.btf.release();
  }
}

export class DiffSession {
  table: ShapeTable;
  sides: DiffSide[] = [];

  /** `expected`: about how many types the first BTF has (sizes the shape table). */
  constructor(expected: u32) {
    this.table = new ShapeTable(expected + (expected >> 1));
  }

  /**
   * Add a BTF: the own shapes of its own keyed types (ids from startId),
   * only those named `filter` when it is not 0, of kind `kind` when not 0;
   * to side `into` when it holds the same BTF (a second filter), else to a
   * new side. Returns the side's index.
   */
  add(btf: Btf, filter: usize, kind: u32, into: i32): i32 {
    // `into`: a side of the same BTF to add more filtered types to (several --type).
    const side = into >= 0 && into < this.sides.length && unchecked(this.sides[into]).btf === btf
      ? unchecked(this.sides[into]) : new DiffSide(btf, this.table);
    const cnt = btf.typeCnt();
    const e = side.entries;
    for (let id = btf.startId; id < cnt; id++) {
      const p = btf.ownRec(id);
      if (!isKeyedKind(btf.recKind(p))) continue;
      const off = load<u32>(p, T_NAME);
      if (off == 0 || load<u8>(btf.str(off)) == 0) continue;
      if (filter != 0) {
        if (!cstreq(btf.name(id), filter)) continue;
        if (kind != 0 && btf.kind(id) != kind) continue;
      }
      e.push(side.shapes.shapeOf(id)); // the key: S_NAMED (kind, name)
      e.push(side.shapes.ownShape(id));
      e.push(id);
    }
    if (side !== (into >= 0 && into < this.sides.length ? unchecked(this.sides[into]) : null)) {
      this.sides.push(side);
      return this.sides.length - 1;
    }
    return into;
  }

  free(): void {
    for (let i = 0; i < this.sides.length; i++) unchecked(this.sides[i]).free();
    this.sides = [];
    this.table.free();
  }

  /**
   * Compare side `ia` (old) with side `ib` (new) into `out` (format above).
   * `details`: describe changed keys (members, values, params). Returns the
   * number of records.
   */
  compare(ia: i32, ib: i32, details: bool, out: ByteSink): u32 {
    const A = unchecked(this.sides[ia]), B = unchecked(this.sides[ib]);
    const nodes = this.table.count;
    // group[key node] = group index; groups in first-seen order (old, then new).
    const groupOf = heap.alloc(<usize>nodes << 2);
    memory.fill(groupOf, 0xff, <usize>nodes << 2);
    const keys = new U32Vec(1024);
    const cntA = new U32Vec(1024);
    const cntB = new U32Vec(1024);
    countGroups(A.entries, groupOf, keys, cntA, cntB, true);
    countGroups(B.entries, groupOf, keys, cntA, cntB, false);
    const ng = keys.len;
    // Prefix sums: each group's run in the side's own-shape and id arrays.
    const startA = prefix(cntA), startB = prefix(cntB);
    const ownA = place(A.entries, groupOf, startA, ng);
    const ownB = place(B.entries, groupOf, startB, ng);

    const hdr = out.len;
    out.u32le(0); out.u32le(0); out.u32le(0); out.u32le(0); out.u32le(0);
    const names = new ByteSink(4096);
    let records: u32 = 0, unchanged: u32 = 0, keysA: u32 = 0, keysB: u32 = 0;
    const tmpA = new U32Vec(16), tmpB = new U32Vec(16);
    // First the verdict per key; then the keys that differ go out sorted by
    // (kind, name), so every consumer shows them in one stable order.
    const order = new U32Vec(256);
    const status = heap.alloc(<usize>ng + 1);
    for (let g: u32 = 0; g < ng; g++) {
      const na = cntA.get(g), nb = cntB.get(g);
      if (na != 0) keysA++;
      if (nb != 0) keysB++;
      let st: u32 = 0;
      if (nb == 0) st = ST_REMOVED;
      else if (na == 0) st = ST_ADDED;
      else if (!sameSets(ownA, load<u32>(startA + (<usize>g << 2)), na, ownB, load<u32>(startB + (<usize>g << 2)), nb, tmpA, tmpB)) st = ST_CHANGED;
      store<u8>(status + g, <u8>st);
      if (st == 0) unchanged++;
      else order.push(g);
    }
    sortKeys(order, keys, this.table);
    records = order.len;
    for (let gi: u32 = 0; gi < records; gi++) {
      const g = order.get(gi);
      const st = <u32>load<u8>(status + g);
      const na = cntA.get(g), nb = cntB.get(g);
      const sa = load<u32>(startA + (<usize>g << 2)), sb = load<u32>(startB + (<usize>g << 2));
      // Representatives: the first id whose shape the other side lacks.
      const oldId = na == 0 ? 0 : pick(ownA, sa, na, ownB, sb, nb);
      const newId = nb == 0 ? 0 : pick(ownB, sb, nb, ownA, sa, na);
      const kp = this.table.payload(keys.get(g));
      out.u32le(st);
      out.u32le(load<u32>(kp));
      out.u32le(oldId);
      out.u32le(newId);
      out.u32le(na);
      out.u32le(nb);
      const ndAt = out.len;
      out.u32le(0);
      names.cstr(<usize>load<u32>(kp, 4));
      names.byte(0);
      if (details && st == ST_CHANGED) {
        const nd = describe(A, oldId, B, newId, out);
        store<u32>(out.ptr + ndAt, nd);
      }
    }
    heap.free(status);
    store<u32>(out.ptr + hdr + 16, out.len - hdr);
    out.bytes(names.ptr, names.len);
    names.dispose();
    store<u32>(out.ptr + hdr, records);
    store<u32>(out.ptr + hdr + 4, keysA);
    store<u32>(out.ptr + hdr + 8, keysB);
    store<u32>(out.ptr + hdr + 12, unchanged);
    tmpA.free(); tmpB.free(); order.free();
    keys.free(); cntA.free(); cntB.free();
    heap.free(groupOf); heap.free(startA); heap.free(startB); heap.free(ownA); heap.free(ownB);
    return records;
  }
}

function countGroups(e: U32Vec, groupOf: usize, keys: U32Vec, cntA: U32Vec, cntB: U32Vec, old: bool): void {
  const n = e.len;
  for (let i: u32 = 0; i < n; i += 3) {
    const key = e.get(i);
    const a = groupOf + (<usize>key << 2);
    let g = load<u32>(a);
    if (g == NONE) {
      g = keys.len;
      store<u32>(a, g);
      keys.push(key);
      cntA.push(0);
      cntB.push(0);
    }
    const c = old ? cntA : cntB;
    const ca = c.ptr + (<usize>g << 2);
    store<u32>(ca, load<u32>(ca) + 1);
  }
}

/** Exclusive prefix sums of `cnt` as a new array. */
function prefix(cnt: U32Vec): usize {
  const n = cnt.len;
  const out = heap.alloc((<usize>n + 1) << 2);
  let acc: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    store<u32>(out + (<usize>i << 2), acc);
    acc += cnt.get(i);
  }
  store<u32>(out + (<usize>n << 2), acc);
  return out;
}

/** (own shape, id) pairs of a side, grouped by key: group g's run starts at start[g]. */
function place(e: U32Vec, groupOf: usize, start: usize, ng: u32): usize {
  const total = e.len / 3;
  const out = heap.alloc((<usize>total << 3) + 8);
  const cursor = heap.alloc((<usize>ng << 2) + 4);
  memory.copy(cursor, start, <usize>ng << 2);
  for (let i: u32 = 0; i < e.len; i += 3) {
    const g = load<u32>(groupOf + (<usize>e.get(i) << 2));
    const ca = cursor + (<usize>g << 2);
    const pos = load<u32>(ca);
    store<u32>(ca, pos + 1);
    store<u32>(out + (<usize>pos << 3), e.get(i + 1));
    store<u32>(out + (<usize>pos << 3), e.get(i + 2), 4);
  }
  heap.free(cursor);
  return out;
}

@inline function shapeAt(arr: usize, i: u32): u32 { return load<u32>(arr + (<usize>i << 3)); }
@inline function idAt(arr: usize, i: u32): u32 { return load<u32>(arr + (<usize>i << 3), 4); }

/** Are the own shapes of two runs equal as sets (duplicates ignored)? */
function sameSets(a: usize, sa: u32, na: u32, b: usize, sb: u32, nb: u32, ta: U32Vec, tb: U32Vec): bool {
  if (na == 1 && nb == 1) return shapeAt(a, sa) == shapeAt(b, sb);
  sortedSet(a, sa, na, ta);
  sortedSet(b, sb, nb, tb);
  if (ta.len != tb.len) return false;
  for (let i: u32 = 0; i < ta.len; i++) if (ta.get(i) != tb.get(i)) return false;
  return true;
}

/** The distinct shapes of a run, ascending, into `t`. */
function sortedSet(a: usize, s: u32, n: u32, t: U32Vec): void {
  t.len = 0;
  for (let i: u32 = 0; i < n; i++) t.push(shapeAt(a, s + i));
  sortU32(t.ptr, t.len);
  let w: u32 = 0;
  for (let i: u32 = 0; i < t.len; i++) {
    const v = t.get(i);
    if (w == 0 || load<u32>(t.ptr + (<usize>(w - 1) << 2)) != v) { store<u32>(t.ptr + (<usize>w << 2), v); w++; }
  }
  t.len = w;
}

/**
 * Sort key of a group: its kind in the top byte, then the first 7 bytes of
 * its name (big-endian, so comparing keys compares bytes as strcmp does; a
 * shorter name pads with 0 and sorts first). Ties fall back to the names.
 */
function sortPrefix(keys: U32Vec, table: ShapeTable, g: u32): u64 {
  const p = table.payload(keys.get(g));
  let k = <u64>(load<u32>(p) & 0xff) << 56;
  const name = <usize>load<u32>(p, 4);
  for (let i = 0; i < 7; i++) {
    const c = <u64>load<u8>(name + i);
    if (c == 0) break;
    k |= c << (48 - 8 * i);
  }
  return k;
}

@inline function entryLess(pre: usize, grp: usize, i: u32, j: u32, keys: U32Vec, table: ShapeTable): bool {
  const a = load<u64>(pre + (<usize>i << 3)), b = load<u64>(pre + (<usize>j << 3));
  if (a != b) return a < b;
  const ga = load<u32>(grp + (<usize>i << 2)), gb = load<u32>(grp + (<usize>j << 2));
  const c = cstrcmp(<usize>load<u32>(table.payload(keys.get(ga)), 4), <usize>load<u32>(table.payload(keys.get(gb)), 4));
  return c != 0 ? c < 0 : ga < gb;
}

@inline function swapEntries(pre: usize, grp: usize, i: u32, j: u32): void {
  const pa = pre + (<usize>i << 3), pb = pre + (<usize>j << 3);
  const t = load<u64>(pa); store<u64>(pa, load<u64>(pb)); store<u64>(pb, t);
  const ga = grp + (<usize>i << 2), gb = grp + (<usize>j << 2);
  const u = load<u32>(ga); store<u32>(ga, load<u32>(gb)); store<u32>(gb, u);
}

/** Heap sort of the group indices in `order` by (kind, name) (no recursion, n log n). */
function sortKeys(order: U32Vec, keys: U32Vec, table: ShapeTable): void {
  const n = order.len;
  if (n < 2) return;
  const grp = order.ptr;
  const pre = heap.alloc(<usize>n << 3);
  for (let i: u32 = 0; i < n; i++) store<u64>(pre + (<usize>i << 3), sortPrefix(keys, table, order.get(i)));
  for (let i = <i32>(n >> 1) - 1; i >= 0; i--) siftKeys(pre, grp, <u32>i, n, keys, table);
  for (let end = n - 1; end > 0; end--) {
    swapEntries(pre, grp, 0, end);
    siftKeys(pre, grp, 0, end, keys, table);
  }
  heap.free(pre);
}

function siftKeys(pre: usize, grp: usize, i: u32, n: u32, keys: U32Vec, table: ShapeTable): void {
  while (true) {
    let big = i;
    const l: u32 = 2 * i + 1, r: u32 = l + 1;
    if (l < n && entryLess(pre, grp, big, l, keys, table)) big = l;
    if (r < n && entryLess(pre, grp, big, r, keys, table)) big = r;
    if (big == i) return;
    swapEntries(pre, grp, i, big);
    i = big;
  }
}

/** Heap sort of n u32 at p (no recursion, n log n whatever the input). */
export function sortU32(p: usize, n: u32): void {
  if (n < 2) return;
  if (n <= 16) {
    for (let i: u32 = 1; i < n; i++) {
      const v = load<u32>(p + (<usize>i << 2));
      let j = i;
      while (j > 0 && load<u32>(p + (<usize>(j - 1) << 2)) > v) {
        store<u32>(p + (<usize>j << 2), load<u32>(p + (<usize>(j - 1) << 2)));
        j--;
      }
      store<u32>(p + (<usize>j << 2), v);
    }
    return;
  }
  for (let i = <i32>(n >> 1) - 1; i >= 0; i--) siftDown(p, <u32>i, n);
  for (let end = n - 1; end > 0; end--) {
    const top = load<u32>(p);
    store<u32>(p, load<u32>(p + (<usize>end << 2)));
    store<u32>(p + (<usize>end << 2), top);
    siftDown(p, 0, end);
  }
}

function siftDown(p: usize, i: u32, n: u32): void {
  while (true) {
    let big = i;
    const l: u32 = 2 * i + 1, r: u32 = l + 1;
    if (l < n && load<u32>(p + (<usize>l << 2)) > load<u32>(p + (<usize>big << 2))) big = l;
    if (r < n && load<u32>(p + (<usize>r << 2)) > load<u32>(p + (<usize>big << 2))) big = r;
    if (big == i) return;
    const t = load<u32>(p + (<usize>i << 2));
    store<u32>(p + (<usize>i << 2), load<u32>(p + (<usize>big << 2)));
    store<u32>(p + (<usize>big << 2), t);
    i = big;
  }
}

/** First id of run a whose shape is not in run b (else the run's first id). */
function pick(a: usize, sa: u32, na: u32, b: usize, sb: u32, nb: u32): u32 {
  // Runs are short except for hostile input; bound the scan.
  const limit: u32 = 4096;
  for (let i: u32 = 0; i < na && i < limit; i++) {
    const s = shapeAt(a, sa + i);
    let found = false;
    for (let j: u32 = 0; j < nb && j < limit; j++) if (shapeAt(b, sb + j) == s) { found = true; break; }
    if (!found) return idAt(a, sa + i);
  }
  return idAt(a, sa);
}

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
function describe(A: DiffSide, x: u32, B: DiffSide, y: u32, out: ByteSink): u32 {
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

function describeLayout(A: DiffSide, x: u32, B: DiffSide, y: u32, out: ByteSink): u32 {
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
    if (A.shapes.known(ta) != B.shapes.known(tb)) flags |= F_RETYPED;
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

function describeFunc(A: DiffSide, x: u32, B: DiffSide, y: u32, out: ByteSink): u32 {
  const a = A.btf, b = B.btf;
  let nd: u32 = 0;
  const la = a.vlen(x), lb = b.vlen(y);
  if (la != lb) { detail(out, D_LINKAGE, la, 0, 0, lb, 0, 0, 0); putStr(out, 0); putStr(out, 0); putStr(out, 0); nd++; }
  const px = a.sizeOrType(x), py = b.sizeOrType(y);
  if (a.kind(px) != KIND_FUNC_PROTO || b.kind(py) != KIND_FUNC_PROTO) return nd;
  const ra = a.sizeOrType(px), rb = b.sizeOrType(py);
  if (A.shapes.known(ra) != B.shapes.known(rb)) {
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
    if (A.shapes.known(ta) != B.shapes.known(tb)) flags |= F_RETYPED;
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
