// bpftool's default order for `btf dump ... format c` (bpftool src/btf.c:
// sort_btf_c, btf_type_rank, btf_type_sort_name, btf_type_disambig_hash,
// btf_type_compare). Every id from 0 (VOID) to the last one is sorted by
// (rank, sort name, own name, 64-bit disambiguation hash, id). bpftool's
// helpers recurse along reference chains; here the chains are walked with
// loops and the hashes of chain tails are memoised, so the work is linear in
// the size of the type table. The sort runs over precomputed keys in
// unmanaged memory without recursion: a radix sort on the leading key, then
// a merge sort (O(n log n)) of each run of equal keys; the disambiguation
// hash is computed only for types whose rank and names tie.

import { Btf } from "../btf";
import { cstrcmp } from "../bytes";
import { U32Vec } from "../vec";
import {
  COMMON_LEN, ENUM64_LEN, ENUM_LEN, KIND_ARRAY, KIND_CONST, KIND_DECL_TAG,
  KIND_ENUM, KIND_ENUM64, KIND_FLOAT, KIND_FUNC_PROTO, KIND_INT, KIND_PTR,
  KIND_RESTRICT, KIND_STRUCT, KIND_TYPEDEF, KIND_TYPE_TAG, KIND_UNION,
  KIND_VOLATILE, MEMBER_LEN, T_NAME, T_SIZE,
} from "../format";

const MAX_RANK: u32 = 10;

// Datum layout (32 bytes); the hash is asked of the Hasher only on ties.
const D_RANK: usize = 0;
const D_ID: usize = 4;
const D_SORT_PFX: usize = 8;
const D_OWN_PFX: usize = 16;
const D_SORT: usize = 24;
const D_OWN: usize = 28;
const DATUM: usize = 32;
/** Sort record: k1 u64, k2 u64, datum index | simple flag (u32), padding. */
const REC: usize = 24;

/**
 * The type table as the C dump sees it: record address and kind|vlen per id,
 * and the string sections of the base chain, so hot code never goes through
 * the (garbage-collected) Btf object.
 */
@unmanaged export class TypeTable {
  n: u32 = 0;
  /** u32 per id: record address. */
  recs: usize = 0;
  /** u32 per id: kind << 24 | vlen (vlen up to 24 bits). */
  kv: usize = 0;
  /** String sections, split first: (start offset, address) pairs. */
  segs: usize = 0;
  nsegs: u32 = 0;

  static create(btf: Btf): TypeTable {
    const t = new TypeTable();
    const n = btf.typeCnt();
    t.n = n;
    t.recs = heap.alloc(<usize>n << 2);
    t.kv = heap.alloc(<usize>n << 2);
    store<u32>(t.recs, <u32>btf.rec(0));
    store<u32>(t.kv, 0);
    let levels: u32 = 0;
    let b: Btf | null = btf;
    while (b !== null) { levels++; b = b.base; }
    t.segs = heap.alloc(<usize>levels << 3);
    t.nsegs = levels;
    b = btf;
    for (let i: u32 = 0; i < levels; i++) {
      const o = b!;
      store<u32>(t.segs + (<usize>i << 3), o.startStrOff);
      store<u32>(t.segs + (<usize>i << 3), <u32>o.strs, 4);
      const end = o.typeCnt();
      for (let id = o.startId; id < end; id++) {
        const p = o.ownRec(id);
        store<u32>(t.recs + (<usize>id << 2), <u32>p);
        store<u32>(t.kv + (<usize>id << 2), (o.recKind(p) << 24) | (o.recVlen(p) & 0xffffff));
      }
      b = o.base;
    }
    return t;
  }

  @inline rec(id: u32): usize { return <usize>load<u32>(this.recs + (<usize>id << 2)); }
  @inline kind(id: u32): u32 { return load<u32>(this.kv + (<usize>id << 2)) >> 24; }
  @inline vlen(id: u32): u32 { return load<u32>(this.kv + (<usize>id << 2)) & 0xffffff; }
  @inline nameOff(id: u32): u32 { return load<u32>(this.rec(id), T_NAME); }
  @inline type(id: u32): u32 { return load<u32>(this.rec(id), T_SIZE); }
  /** Address of the string at `off` (valid offsets only: parsing checked them). */
  str(off: u32): usize {
    let a = this.segs;
    const end = a + (<usize>this.nsegs << 3);
    while (a + 8 < end && off < load<u32>(a)) a += 8;
    return <usize>load<u32>(a, 4) + <usize>(off - load<u32>(a));
  }

  free(): void {
    heap.free(this.recs);
    heap.free(this.kv);
    heap.free(this.segs);
    heap.free(changetype<usize>(this));
  }
}

@inline function isRefKind(k: u32): bool {
  return k == KIND_TYPE_TAG || k == KIND_CONST || k == KIND_PTR || k == KIND_VOLATILE ||
    k == KIND_RESTRICT || k == KIND_TYPEDEF || k == KIND_DECL_TAG;
}

/** libbpf's str_hash: h = h * 31 + c over signed chars, in 64 bits. */
function strHash(p: usize): u64 {
  let h: u64 = 0;
  while (true) {
    const c = load<i8>(p);
    if (c == 0) return h;
    h = h * 31 + <u64>(<i64>c);
    p++;
  }
}

@inline function nameHasher(t: TypeTable, h: u64, off: u32): u64 {
  return off == 0 ? h : h * 31 + strHash(t.str(off));
}

// bpftool's btf_type_rank and btf_type_sort_name recurse down reference
// chains (typedefs included) for every id: quadratic on a long typedef chain
// (a 200,000-long one took 10 minutes; test/extremes.test.ts). The chain
// part of both is memoised per id here, so each id is walked once. A chain
// that runs into a loop gives what bpftool never returns from: MAX_RANK and
// the empty name, as the bounded walks this replaces did.

const MEMO_UNKNOWN: u32 = 0xffffffff;
const MEMO_BUSY: u32 = 0xfffffffe; // on the chain being walked: reaching it again is a loop

/** Per-id memo of the chain walks, plus the scratch list of the chain under way. */
@unmanaged class ChainMemo {
  rank: usize = 0; // u32 per id: btf_type_rank(id, true)
  name: usize = 0; // u32 per id: btf_type_sort_name(id, true), an address
  chain: usize = 0; // u32 per id at most
  n: u32 = 0;

  static create(n: u32): ChainMemo {
    const m = new ChainMemo();
    m.n = n;
    m.rank = heap.alloc(<usize>n << 2);
    m.name = heap.alloc(<usize>n << 2);
    m.chain = heap.alloc(<usize>n << 2);
    memory.fill(m.rank, 0xff, <usize>n << 2);
    memory.fill(m.name, 0xff, <usize>n << 2);
    return m;
  }

  free(): void {
    heap.free(this.rank);
    heap.free(this.name);
    heap.free(this.chain);
    heap.free(changetype<usize>(this));
  }
}

/** Store `v` for every id on the chain just walked. */
function settle(memo: usize, chain: usize, len: u32, v: u32): void {
  for (let i: u32 = 0; i < len; i++) store<u32>(memo + (<usize>load<u32>(chain + (<usize>i << 2)) << 2), v);
}

/** btf_type_rank(id, true): has_name is set, so arrays and references are followed. */
function rankNamed(t: TypeTable, m: ChainMemo, id: u32): u32 {
  let len: u32 = 0;
  let r: u32 = MAX_RANK;
  while (id < t.n) {
    const known = load<u32>(m.rank + (<usize>id << 2));
    if (known == MEMO_BUSY) break; // a loop
    if (known != MEMO_UNKNOWN) { r = known; break; }
    const k = t.kind(id);
    if (k == KIND_ARRAY || isRefKind(k)) {
      store<u32>(m.rank + (<usize>id << 2), MEMO_BUSY);
      store<u32>(m.chain + (<usize>len << 2), id);
      len++;
      id = k == KIND_ARRAY ? load<u32>(t.rec(id) + COMMON_LEN) : t.type(id);
      continue;
    }
    r = k == KIND_ENUM || k == KIND_ENUM64 ? 1 : k == KIND_INT || k == KIND_FLOAT ? 2
      : k == KIND_STRUCT || k == KIND_UNION ? 3 : k == KIND_FUNC_PROTO ? 4 : MAX_RANK;
    store<u32>(m.rank + (<usize>id << 2), r);
    break;
  }
  settle(m.rank, m.chain, len, r);
  return r;
}

/** btf_type_rank(id, false). */
function typeRank(t: TypeTable, m: ChainMemo, id: u32): u32 {
  const k = t.kind(id);
  if (t.nameOff(id) != 0) return rankNamed(t, m, id);
  if (k == KIND_ENUM || k == KIND_ENUM64) return 0;
  if (k == KIND_INT || k == KIND_FLOAT) return 2;
  return MAX_RANK; // anonymous struct, union, func proto, array, reference, or other
}

/** btf_type_sort_name(id, true): address of the name a referenced type sorts under. */
function sortNameRef(t: TypeTable, m: ChainMemo, id: u32): usize {
  let len: u32 = 0;
  let r = <u32>t.str(0);
  while (id < t.n) {
    const known = load<u32>(m.name + (<usize>id << 2));
    if (known == MEMO_BUSY) break; // a loop
    if (known != MEMO_UNKNOWN) { r = known; break; }
    const k = t.kind(id);
    if (k == KIND_ARRAY || isRefKind(k)) {
      store<u32>(m.name + (<usize>id << 2), MEMO_BUSY);
      store<u32>(m.chain + (<usize>len << 2), id);
      len++;
      id = k == KIND_ARRAY ? load<u32>(t.rec(id) + COMMON_LEN) : t.type(id);
      continue;
    }
    // From a reference an enum sorts under its own name, even when anonymous.
    r = <u32>t.str(t.nameOff(id));
    store<u32>(m.name + (<usize>id << 2), r);
    break;
  }
  settle(m.name, m.chain, len, r);
  return <usize>r;
}

/** btf_type_sort_name(id, false): address of the name the type sorts under. */
function sortName(t: TypeTable, m: ChainMemo, id: u32): usize {
  const k = t.kind(id);
  if (k == KIND_ENUM || k == KIND_ENUM64) {
    let off = t.nameOff(id);
    if (off == 0 && t.vlen(id) != 0) off = load<u32>(t.rec(id) + COMMON_LEN);
    return t.str(off);
  }
  if (k == KIND_ARRAY) return sortNameRef(t, m, load<u32>(t.rec(id) + COMMON_LEN));
  if (isRefKind(k)) return sortNameRef(t, m, t.type(id));
  return t.str(t.nameOff(id));
}

/**
 * btf_type_disambig_hash with memoisation. `incl` selects include_members;
 * memo arrays hold one u64 per id for each value of `incl`.
 */
@unmanaged class Hasher {
  t: TypeTable;
  memo0: usize; // include_members = false
  memo1: usize; // include_members = true
  done: usize; // u8 per id: bit 0 memo0 valid, bit 1 memo1 valid
  // Scratch for the ids along a chain, one per value of `incl`: hashing a
  // struct with members (incl) hashes its member types without (not incl),
  // so the two walks can be under way at once.
  chain0: U32Vec;
  chain1: U32Vec;

  constructor(t: TypeTable) {
    const n = <usize>t.n;
    const done = heap.alloc(n);
    memory.fill(done, 0, n);
    this.chain0 = new U32Vec(64);
    this.chain1 = new U32Vec(64);
    this.t = t;
    this.memo0 = heap.alloc(n << 3);
    this.memo1 = heap.alloc(n << 3);
    this.done = done;
  }

  /** The part of a type's hash that does not depend on the type it points to. */
  private head(id: u32, incl: bool): u64 {
    const t = this.t;
    const p = t.rec(id);
    let h = nameHasher(t, 0, load<u32>(p, T_NAME));
    const k = t.kind(id);
    const vlen = t.vlen(id);
    if (k == KIND_ENUM) {
      for (let i: u32 = 0; i < vlen; i++) h = nameHasher(t, h, load<u32>(p + COMMON_LEN + <usize>i * ENUM_LEN));
    } else if (k == KIND_ENUM64) {
      for (let i: u32 = 0; i < vlen; i++) h = nameHasher(t, h, load<u32>(p + COMMON_LEN + <usize>i * ENUM64_LEN));
    } else if ((k == KIND_STRUCT || k == KIND_UNION) && incl) {
      for (let i: u32 = 0; i < vlen; i++) {
        const m = p + COMMON_LEN + <usize>i * MEMBER_LEN;
        h = nameHasher(t, h, load<u32>(m));
        h = h * 31 + this.hash(load<u32>(m, 4), false);
      }
    } else if (k == KIND_ARRAY) {
      h = h * 31 + <u64>load<u32>(p + COMMON_LEN, 8);
    }
    return h;
  }

  /** The next type on the chain whose hash folds into this one, or -1. */
  @inline private next(id: u32): i64 {
    const k = this.t.kind(id);
    if (k == KIND_ARRAY) return <i64>load<u32>(this.t.rec(id) + COMMON_LEN);
    if (isRefKind(k)) return <i64>this.t.type(id);
    return -1;
  }

  hash(id: u32, incl: bool): u64 {
    const bit: u8 = incl ? 2 : 1;
    const memo = incl ? this.memo1 : this.memo0;
    if ((load<u8>(this.done + id) & bit) != 0) return load<u64>(memo + (<usize>id << 3));
    return this.compute(id, incl);
  }

  private compute(id: u32, incl: bool): u64 {
    const bit: u8 = incl ? 2 : 1;
    const memo = incl ? this.memo1 : this.memo0;
    const chain = incl ? this.chain1 : this.chain0;
    // Walk down to a memoised type or the end of the chain.
    chain.len = 0;
    let cur = id;
    let tail: u64 = 0;
    let haveTail = false;
    while (true) {
      if ((load<u8>(this.done + cur) & bit) != 0) { tail = load<u64>(memo + (<usize>cur << 3)); haveTail = true; break; }
      chain.push(cur);
      const nx = this.next(cur);
      if (nx < 0 || chain.len > this.t.n) break; // a DECL_TAG loop ends the chain
      cur = <u32>nx;
    }
    // Fold back up: h(x) = hasher(head(x), h(next(x))).
    const len = chain.len;
    let i = len;
    while (i > 0) {
      i--;
      const x = chain.get(i);
      let h: u64;
      if (i == len - 1 && !haveTail) {
        // End of the chain: its hash has no tail (or it is a ref whose tail looped).
        h = this.head(x, incl);
        if (this.next(x) >= 0) h = h * 31; // tail hash of a cut loop counts as 0
      } else {
        h = this.head(x, incl) * 31 + tail;
      }
      tail = h;
      store<u64>(memo + (<usize>x << 3), h);
      store<u8>(this.done + x, load<u8>(this.done + x) | bit);
    }
    return tail;
  }

  free(): void {
    heap.free(this.memo0);
    heap.free(this.memo1);
    heap.free(this.done);
    this.chain0.free();
    this.chain1.free();
    heap.free(changetype<usize>(this));
  }
}

/** First 8 bytes of a C string as a big-endian u64, zero-padded after the NUL. */
function prefix8(p: usize): u64 {
  let v: u64 = 0;
  let ended = false;
  for (let i = 0; i < 8; i++) {
    let c: u64 = 0;
    if (!ended) {
      c = <u64>load<u8>(p + i);
      if (c == 0) ended = true;
    }
    v = (v << 8) | c;
  }
  return v;
}

/**
 * Stable LSD radix sort of the n records at `src` by k1, one byte per pass
 * (passes where every record has the same byte are skipped). Returns true
 * when the result ended in `dst` rather than `src`.
 */
function radixK1(src: usize, dst: usize, n: u32): bool {
  const hist = heap.alloc(8 * 256 * 4);
  memory.fill(hist, 0, 8 * 256 * 4);
  for (let i: u32 = 0; i < n; i++) {
    const k = load<u64>(src + <usize>i * REC);
    for (let d: u32 = 0; d < 8; d++) {
      const a = hist + (<usize>((d << 8) | <u32>((k >> (<u64>d << 3)) & 0xff)) << 2);
      store<u32>(a, load<u32>(a) + 1);
    }
  }
  let inDst = false;
  for (let d: u32 = 0; d < 8; d++) {
    const h = hist + (<usize>d << 10);
    let trivial = false;
    let sum: u32 = 0;
    for (let b: u32 = 0; b < 256; b++) {
      const c = load<u32>(h + (<usize>b << 2));
      if (c == n) trivial = true;
      store<u32>(h + (<usize>b << 2), sum);
      sum += c;
    }
    if (trivial) continue;
    const shift = <u64>d << 3;
    for (let i: u32 = 0; i < n; i++) {
      const r = src + <usize>i * REC;
      const k = load<u64>(r);
      const a = h + (<usize>(<u32>((k >> shift) & 0xff)) << 2);
      const pos = load<u32>(a);
      store<u32>(a, pos + 1);
      const q = dst + <usize>pos * REC;
      store<u64>(q, k); store<u64>(q, load<u64>(r, 8), 8); store<u64>(q, load<u64>(r, 16), 16);
    }
    const tmp = src; src = dst; dst = tmp;
    inDst = !inDst;
  }
  heap.free(hist);
  return inDst;
}

/**
 * Sort records [lo, hi) of `src` with recLess: insertion-sorted runs of 16,
 * then bottom-up merges through the same range of `tmp`; the result is left
 * in `src`.
 */
function sortRun(datums: usize, src: usize, tmp: usize, lo: u32, hi: u32): void {
  const RUN: u32 = 16;
  for (let a = lo; a < hi; a += RUN) {
    const b = min<u32>(a + RUN, hi);
    for (let i = a + 1; i < b; i++) {
      const r = src + <usize>i * REC;
      const k1 = load<u64>(r);
      const k2 = load<u64>(r, 8);
      const w = load<u64>(r, 16);
      let j = i;
      while (j > a) {
        const p = src + <usize>(j - 1) * REC;
        if (!recLess(datums, k1, k2, <u32>w, p)) break;
        store<u64>(p + REC, load<u64>(p)); store<u64>(p + REC, load<u64>(p, 8), 8); store<u64>(p + REC, load<u64>(p, 16), 16);
        j--;
      }
      const q = src + <usize>j * REC;
      store<u64>(q, k1); store<u64>(q, k2, 8); store<u64>(q, w, 16);
    }
  }
  let from = src;
  let to = tmp;
  for (let width: u32 = RUN; width < hi - lo; width <<= 1) {
    for (let a = lo; a < hi; a += width << 1) {
      const mid = min<u32>(a + width, hi);
      const b = min<u32>(a + (width << 1), hi);
      let i = a, j = mid, k = a;
      while (i < mid && j < b) {
        const x = from + <usize>i * REC;
        const y = from + <usize>j * REC;
        // Take y first only when y < x (stability keeps equal keys in order).
        const takeY = recLess(datums, load<u64>(y), load<u64>(y, 8), load<u32>(y, 16), x);
        const r = takeY ? y : x;
        const q = to + <usize>k * REC;
        store<u64>(q, load<u64>(r)); store<u64>(q, load<u64>(r, 8), 8); store<u64>(q, load<u64>(r, 16), 16);
        if (takeY) j++; else i++;
        k++;
      }
      if (i < mid) memory.copy(to + <usize>k * REC, from + <usize>i * REC, <usize>(mid - i) * REC);
      else if (j < b) memory.copy(to + <usize>k * REC, from + <usize>j * REC, <usize>(b - j) * REC);
    }
    const t = from; from = to; to = t;
  }
  if (from != src) memory.copy(src + <usize>lo * REC, from + <usize>lo * REC, <usize>(hi - lo) * REC);
}

/** Bytes [from, from+8) of a C string as a big-endian u64, zero-padded after the NUL. */
function prefix8from(p: usize, from: u32): u64 {
  for (let i: u32 = 0; i < from; i++) if (load<u8>(p + i) == 0) return 0;
  return prefix8(p + from);
}

/**
 * Does the record (k1, k2, w) sort before the record at `b`? Both
 * records' datums live at `datums`; w holds the datum index and the flag.
 */
@inline function recLess(datums: usize, k1: u64, k2: u64, w: u32, b: usize): bool {
  const bk1 = load<u64>(b);
  if (k1 != bk1) return k1 < bk1;
  const bk2 = load<u64>(b, 8);
  if (k2 != bk2) return k2 < bk2;
  const bw = load<u32>(b, 16);
  if ((w & bw & 0x80000000) != 0) {
    const ia = w & 0x7fffffff;
    const ib = bw & 0x7fffffff;
    const h = sortHasher.hash(ia, true);
    const bh = sortHasher.hash(ib, true);
    if (h != bh) return h < bh;
    return ia < ib;
  }
  return compare(datums + <usize>(w & 0x7fffffff) * DATUM, datums + <usize>(bw & 0x7fffffff) * DATUM) < 0;
}

/** strcmp given the precomputed prefixes. */
@inline function cmpName(pa: u64, pb: u64, a: usize, b: usize): i32 {
  if (pa != pb) return pa < pb ? -1 : 1;
  if ((pa & 0xff) == 0) return 0; // both strings ended inside the prefix
  return cstrcmp(a + 8, b + 8);
}

/** The hasher of the sort under way: compare() asks it for hashes on ties. */
let sortHasher: Hasher = changetype<Hasher>(0);

/** btf_type_compare over two datums. */
function compare(a: usize, b: usize): i32 {
  const ra = load<u32>(a, D_RANK);
  const rb = load<u32>(b, D_RANK);
  if (ra != rb) return ra < rb ? -1 : 1;
  let r = cmpName(load<u64>(a, D_SORT_PFX), load<u64>(b, D_SORT_PFX), <usize>load<u32>(a, D_SORT), <usize>load<u32>(b, D_SORT));
  if (r != 0) return r;
  r = cmpName(load<u64>(a, D_OWN_PFX), load<u64>(b, D_OWN_PFX), <usize>load<u32>(a, D_OWN), <usize>load<u32>(b, D_OWN));
  if (r != 0) return r;
  const ia = load<u32>(a, D_ID);
  const ib = load<u32>(b, D_ID);
  const ha = sortHasher.hash(ia, true);
  const hb = sortHasher.hash(ib, true);
  if (ha != hb) return ha < hb ? -1 : 1;
  return ia < ib ? -1 : ia > ib ? 1 : 0;
}

/**
 * Every id 0..n-1 in bpftool's sorted order, as a u32 array of n entries
 * (heap memory; the caller frees it).
 */
export function sortedIds(t: TypeTable): usize {
  const n = t.n;
  const datums = heap.alloc(<usize>n * DATUM);
  const hasher = new Hasher(t);
  sortHasher = hasher;
  const memo = ChainMemo.create(n);
  for (let id: u32 = 0; id < n; id++) {
    const d = datums + <usize>id * DATUM;
    store<u32>(d, typeRank(t, memo, id), D_RANK);
    store<u32>(d, id, D_ID);
    const sn = sortName(t, memo, id);
    const own = t.str(t.nameOff(id));
    store<u32>(d, <u32>sn, D_SORT);
    store<u32>(d, <u32>own, D_OWN);
    store<u64>(d, prefix8(sn), D_SORT_PFX);
    store<u64>(d, prefix8(own), D_OWN_PFX);
  }
  memo.free();

  // Sort 24-byte records: k1 = rank and sort name bytes 0-6, k2 = sort name
  // bytes 7-14, then the datum index and a flag saying that k1/k2 determine
  // both names (the sort name has at most 14 bytes and the own name is empty
  // or the same). Most comparisons end within the records; ties of simple
  // records go to the (lazily computed) hash, other ties to compare().
  let src = heap.alloc(<usize>n * REC);
  let dst = heap.alloc(<usize>n * REC);
  for (let i: u32 = 0; i < n; i++) {
    const d = datums + <usize>i * DATUM;
    const r = src + <usize>i * REC;
    const sn = <usize>load<u32>(d, D_SORT);
    const own = <usize>load<u32>(d, D_OWN);
    const k1 = (<u64>load<u32>(d, D_RANK) << 56) | (load<u64>(d, D_SORT_PFX) >> 8);
    const k2 = prefix8from(sn, 7);
    const short = (k2 & 0xff) == 0; // the NUL is within the first 15 bytes
    const simple = short && (load<u8>(own) == 0 || own == sn || cstrcmp(own, sn) == 0);
    store<u64>(r, k1);
    store<u64>(r, k2, 8);
    store<u64>(r, <u64>(i | (simple ? 0x80000000 : 0)), 16);
  }
  // k1 alone by LSD radix sort, then each run of equal k1 by comparisons.
  if (radixK1(src, dst, n)) { const tmp = src; src = dst; dst = tmp; }
  let lo: u32 = 0;
  while (lo < n) {
    const k = load<u64>(src + <usize>lo * REC);
    let hi = lo + 1;
    while (hi < n && load<u64>(src + <usize>hi * REC) == k) hi++;
    if (hi - lo > 1) sortRun(datums, src, dst, lo, hi);
    lo = hi;
  }
  // Datum i holds id i, so the sorted datum indices are the sorted ids.
  const ids = dst; // reuse: n u32 fit in the n records of the spare buffer
  for (let i: u32 = 0; i < n; i++) store<u32>(ids + (<usize>i << 2), load<u32>(src + <usize>i * REC, 16) & 0x7fffffff);
  heap.free(src);
  heap.free(datums);
  hasher.free();
  return ids;
}

/**
 * Stable bottom-up merge sort of `n` u32 values at `arr`, in place, with a
 * comparator (a plain function: context goes through module variables).
 */
export function mergeSortU32(arr: usize, n: u32, cmp: (a: u32, b: u32) => i32): void {
  if (n < 2) return;
  let src = arr;
  let dst = heap.alloc(<usize>n << 2);
  const scratch = dst;
  for (let width: u32 = 1; width < n; width <<= 1) {
    for (let lo: u32 = 0; lo < n; lo += width << 1) {
      const mid = min<u32>(lo + width, n);
      const hi = min<u32>(lo + (width << 1), n);
      let i = lo, j = mid, k = lo;
      while (i < mid && j < hi) {
        const a = load<u32>(src + (<usize>i << 2));
        const b = load<u32>(src + (<usize>j << 2));
        if (cmp(a, b) <= 0) { store<u32>(dst + (<usize>k << 2), a); i++; }
        else { store<u32>(dst + (<usize>k << 2), b); j++; }
        k++;
      }
      if (i < mid) memory.copy(dst + (<usize>k << 2), src + (<usize>i << 2), <usize>(mid - i) << 2);
      else if (j < hi) memory.copy(dst + (<usize>k << 2), src + (<usize>j << 2), <usize>(hi - j) << 2);
    }
    const tmp = src; src = dst; dst = tmp;
  }
  if (src != arr) memory.copy(arr, src, <usize>n << 2);
  heap.free(scratch);
}
