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
//   detail   (details.ts) [code, a0..a6] str(name) str(old label) str(new label)
//   names    at `names offset` to the end: each record's key name, NUL-ended,
//            in record order (one decode on the host for thousands of keys)
// status: 1 added, 2 removed, 3 changed; old/new id: the first type under the
// key on that side whose own shape the other side lacks (0 when none).

import { Btf } from "../btf";
import { ByteSink } from "../sink";
import { U32Vec } from "../vec";
import { cstreq, cstrcmp } from "../bytes";
import { ShapeSide, ShapeTable, isKeyedKind } from "./shapes";
import { describe } from "./details";
import { T_NAME } from "../format";

export const ST_ADDED: u32 = 1;
export const ST_REMOVED: u32 = 2;
export const ST_CHANGED: u32 = 3;

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
        const nd = describe(A.shapes, oldId, B.shapes, newId, out);
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

