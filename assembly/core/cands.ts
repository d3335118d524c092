// CO-RE candidate search (libbpf.c's bpf_core_find_cands / bpf_core_add_cands)
// as one lookup instead of a scan of every target type per local type.
//
// libbpf keeps target type i as a candidate for a local type when their kinds
// are CO-RE compatible (equal, or both enums) and their *essential* names
// (cut before the last `___flavor`) are equal; ids ascend; unnamed types never
// qualify. The index here maps an essential name to the ids of a Btf's own
// types carrying it, ascending, built once per target (O(n)) and cached on
// the Btf (BtfIndex), so a vmlinux serves every object of a run. Kind
// filtering happens on the (short) chain.

import { Btf, BtfIndex } from "../btf";
import { T_NAME } from "../format";
import { nextPow2 } from "../bytes";
import { kindCompat } from "./spec";

const ESS_TAG: i32 = 0x434f5245; // "CORE"

/** FNV-1a over n bytes. */
function hashN(p: usize, n: u32): u32 {
  let h: u32 = 2166136261;
  for (let i: u32 = 0; i < n; i++) h = (h ^ <u32>load<u8>(p + i)) * 16777619;
  return h;
}

function memEqN(a: usize, b: usize, n: u32): bool {
  for (let i: u32 = 0; i < n; i++) if (load<u8>(a + i) != load<u8>(b + i)) return false;
  return true;
}

let lastHash: u32 = 0;

/**
 * bpf_core_essential_name_len of the name at p, in one forward pass that
 * also leaves the FNV-1a hash of that prefix in lastHash. The essential name
 * ends before the last run of exactly three underscores that has a
 * non-underscore character on both sides (libbpf's X___Y).
 */
function essHashLen(p: usize): u32 {
  let h: u32 = 2166136261;
  let hAtRun: u32 = h;
  let run: u32 = 0;
  let essLen: u32 = 0;
  let essHash: u32 = 0;
  let found = false;
  let i: u32 = 0;
  while (true) {
    const c = <u32>load<u8>(p + i);
    if (c == 0) break;
    if (c == 0x5f) {
      if (run == 0) hAtRun = h;
      run++;
    } else {
      // A run of exactly three underscores after a non-underscore, now closed by one.
      if (run == 3 && i > 3) { essLen = i - 3; essHash = hAtRun; found = true; }
      run = 0;
    }
    h = (h ^ c) * 16777619;
    i++;
  }
  if (found) { lastHash = essHash; return essLen; }
  lastHash = h;
  return i;
}

export class EssIndex extends BtfIndex {
  heads: usize = 0;
  mask: u32 = 0;
  /** Per own type: the next id with the same essential name (0 = end). */
  chain: usize = 0;
  /** Per own type: its essential name's length. */
  lens: usize = 0;
  start: u32 = 0;

  constructor(public btf: Btf) {
    super(ESS_TAG);
    const b = btf;
    const count = b.count;
    this.start = b.startId;
    const cap = nextPow2(max<u32>(16, count * 2));
    this.mask = cap - 1;
    this.heads = heap.alloc(<usize>cap << 2);
    memory.fill(this.heads, 0, <usize>cap << 2);
    const n4 = <usize>max<u32>(count, 1) << 2;
    this.chain = heap.alloc(n4);
    memory.fill(this.chain, 0, n4);
    this.lens = heap.alloc(n4);
    memory.fill(this.lens, 0, n4);
    const cnt = b.typeCnt();
    // Descending ids, each pushed at its chain's head: chains read ascending.
    for (let id = cnt - 1; id >= b.startId && id > 0; id--) {
      const off = load<u32>(b.ownRec(id), T_NAME);
      if (off == 0) continue;
      const p = b.str(off);
      // One pass: the essential length and the hash of that prefix (essHashLen).
      const len = essHashLen(p);
      if (len == 0) continue;
      const rel = <usize>(id - this.start) << 2;
      store<u32>(this.lens + rel, len);
      const a = this.slotHashed(p, len, lastHash);
      store<u32>(this.chain + rel, load<u32>(a));
      store<u32>(a, id);
    }
  }

  /** The chain slot for the essential name [p, p+len). */
  @inline slot(p: usize, len: u32): usize { return this.slotHashed(p, len, hashN(p, len)); }

  slotHashed(p: usize, len: u32, hash: u32): usize {
    const b = this.btf;
    let i = hash & this.mask;
    while (true) {
      const a = this.heads + (<usize>i << 2);
      const h = load<u32>(a);
      if (h == 0) return a;
      const rel = <usize>(h - this.start) << 2;
      if (load<u32>(this.lens + rel) == len && memEqN(b.str(load<u32>(b.ownRec(h), T_NAME)), p, len)) return a;
      i = (i + 1) & this.mask;
    }
  }

  /** First own id with that essential name, 0 if none. */
  @inline first(p: usize, len: u32): u32 { return load<u32>(this.slot(p, len)); }
  @inline after(id: u32): u32 { return load<u32>(this.chain + (<usize>(id - this.start) << 2)); }

  dispose(): void {
    heap.free(this.heads);
    heap.free(this.chain);
    heap.free(this.lens);
  }
}

export function essIndex(b: Btf): EssIndex {
  const found = b.findIndex(ESS_TAG);
  if (found !== null) return changetype<EssIndex>(found);
  const ix = new EssIndex(b);
  b.addIndex(ix);
  return ix;
}

/** A candidate list: which target (0 = vmlinux, k+1 = module k) and the id there. */
export class CandList {
  sel: Array<u32> = new Array<u32>();
  ids: Array<u32> = new Array<u32>();
  @inline get length(): i32 { return this.ids.length; }
  copyFrom(o: CandList): void {
    this.sel.length = 0;
    this.ids.length = 0;
    for (let i = 0; i < o.ids.length; i++) { this.sel.push(o.sel[i]); this.ids.push(o.ids[i]); }
  }
}

/**
 * bpf_core_add_cands over target `tb`'s own types: append every id whose kind
 * is compatible with `localKind` and whose essential name is [p, p+len).
 */
export function addCands(p: usize, len: u32, localKind: u32, tb: Btf, sel: u32, out: CandList): void {
  if (len == 0) return;
  const ix = essIndex(tb);
  let id = ix.first(p, len);
  while (id != 0) {
    if (kindCompat(tb.kind(id), localKind)) {
      out.sel.push(sel);
      out.ids.push(id);
    }
    id = ix.after(id);
  }
}

/** Does `tb` have any candidate for that essential name and kind? */
export function hasCands(p: usize, len: u32, localKind: u32, tb: Btf): bool {
  if (len == 0) return false;
  const ix = essIndex(tb);
  let id = ix.first(p, len);
  while (id != 0) {
    if (kindCompat(tb.kind(id), localKind)) return true;
    id = ix.after(id);
  }
  return false;
}
