// The C dump's name bookkeeping, in unmanaged memory: libbpf btf_dump keeps
// two maps from a name to how many distinct types (or enumerators) have used
// it so far (`type_names` for struct/union/enum tags, `ident_names` for
// typedefs and enumerators); the k-th user of a name prints as NAME___k.
// Keys are addresses of NUL-terminated strings that stay put for the whole
// dump (BTF string sections, or names this dump allocated).
//
// The classes here are @unmanaged: plain structs in linear memory that the
// garbage collector does not see, so hot code using them carries no
// shadow-stack bookkeeping. Their owners free them with `free()`.

import { cstrHash, cstreq } from "../bytes";

/**
 * Name -> count. Names are looked up by content, but BTF string sections
 * hold each string once, so a second table keyed by the string's address
 * answers almost every lookup without hashing or comparing characters.
 * Entries are dense (insertion order): `keys` and `counts` per entry; the
 * content table holds entry+1 (0 = empty); the address table holds
 * (address, entry) pairs.
 */
@unmanaged export class NameCounts {
  keys: usize = 0; // u32 per entry: address of the first string seen
  hashes: usize = 0; // u32 per entry
  counts: usize = 0; // u32 per entry
  size: u32 = 0;
  entryCap: u32 = 0;
  slots: usize = 0; // content table: u32 entry+1
  mask: u32 = 0;
  addrSlots: usize = 0; // address table: (u32 address, u32 entry)
  addrMask: u32 = 0;
  addrSize: u32 = 0;

  constructor(expected: u32) {
    let cap: u32 = 64;
    while (cap < expected * 2) cap <<= 1;
    this.entryCap = cap >> 1;
    this.keys = heap.alloc(<usize>this.entryCap << 2);
    this.hashes = heap.alloc(<usize>this.entryCap << 2);
    this.counts = heap.alloc(<usize>this.entryCap << 2);
    this.mask = cap - 1;
    this.slots = heap.alloc(<usize>cap << 2);
    memory.fill(this.slots, 0, <usize>cap << 2);
    this.addrMask = cap - 1;
    this.addrSlots = heap.alloc(<usize>cap << 3);
    memory.fill(this.addrSlots, 0, <usize>cap << 3);
  }

  /** Count one more use of the name at `p`; returns the new count (libbpf btf_dump_name_dups). */
  bump(p: usize): u32 {
    // By address first.
    const amask = this.addrMask;
    let i = addrHash(p) & amask;
    while (true) {
      const a = this.addrSlots + (<usize>i << 3);
      const k = load<u32>(a);
      if (k == 0) break;
      if (<usize>k == p) {
        const c = this.counts + (<usize>load<u32>(a, 4) << 2);
        const v = load<u32>(c) + 1;
        store<u32>(c, v);
        return v;
      }
      i = (i + 1) & amask;
    }
    // By content, then remember the address.
    const e = this.entryFor(p);
    this.addAddr(p, e);
    const c = this.counts + (<usize>e << 2);
    const v = load<u32>(c) + 1;
    store<u32>(c, v);
    return v;
  }

  private entryFor(p: usize): u32 {
    const h = cstrHash(p);
    let i = h & this.mask;
    while (true) {
      const a = this.slots + (<usize>i << 2);
      const s = load<u32>(a);
      if (s == 0) break;
      const e = s - 1;
      if (load<u32>(this.hashes + (<usize>e << 2)) == h && cstreq(<usize>load<u32>(this.keys + (<usize>e << 2)), p)) return e;
      i = (i + 1) & this.mask;
    }
    if (this.size == this.entryCap) this.grow();
    const e = this.size++;
    store<u32>(this.keys + (<usize>e << 2), <u32>p);
    store<u32>(this.hashes + (<usize>e << 2), h);
    store<u32>(this.counts + (<usize>e << 2), 0);
    let j = h & this.mask;
    while (load<u32>(this.slots + (<usize>j << 2)) != 0) j = (j + 1) & this.mask;
    store<u32>(this.slots + (<usize>j << 2), e + 1);
    return e;
  }

  /** Double the entry arrays and the content table (kept at most half full). */
  private grow(): void {
    const cap = this.entryCap << 1;
    this.keys = heap.realloc(this.keys, <usize>cap << 2);
    this.hashes = heap.realloc(this.hashes, <usize>cap << 2);
    this.counts = heap.realloc(this.counts, <usize>cap << 2);
    this.entryCap = cap;
    const slotsCap = cap << 1;
    heap.free(this.slots);
    this.mask = slotsCap - 1;
    this.slots = heap.alloc(<usize>slotsCap << 2);
    memory.fill(this.slots, 0, <usize>slotsCap << 2);
    for (let e: u32 = 0; e < this.size; e++) {
      let j = load<u32>(this.hashes + (<usize>e << 2)) & this.mask;
      while (load<u32>(this.slots + (<usize>j << 2)) != 0) j = (j + 1) & this.mask;
      store<u32>(this.slots + (<usize>j << 2), e + 1);
    }
  }

  private addAddr(p: usize, e: u32): void {
    if ((this.addrSize + 1) * 2 > this.addrMask + 1) {
      const old = this.addrSlots;
      const oldCap = this.addrMask + 1;
      const cap = oldCap << 1;
      this.addrMask = cap - 1;
      this.addrSlots = heap.alloc(<usize>cap << 3);
      memory.fill(this.addrSlots, 0, <usize>cap << 3);
      for (let j: u32 = 0; j < oldCap; j++) {
        const src = old + (<usize>j << 3);
        const k = load<u32>(src);
        if (k == 0) continue;
        let i = addrHash(<usize>k) & this.addrMask;
        while (load<u32>(this.addrSlots + (<usize>i << 3)) != 0) i = (i + 1) & this.addrMask;
        store<u64>(this.addrSlots + (<usize>i << 3), load<u64>(src));
      }
      heap.free(old);
    }
    let i = addrHash(p) & this.addrMask;
    while (load<u32>(this.addrSlots + (<usize>i << 3)) != 0) i = (i + 1) & this.addrMask;
    const a = this.addrSlots + (<usize>i << 3);
    store<u32>(a, <u32>p);
    store<u32>(a, e, 4);
    this.addrSize++;
  }

  free(): void {
    heap.free(this.keys);
    heap.free(this.hashes);
    heap.free(this.counts);
    heap.free(this.slots);
    heap.free(this.addrSlots);
    heap.free(changetype<usize>(this));
  }
}

/** Fibonacci hashing of an address. */
@inline function addrHash(p: usize): u32 { return (<u32>p * 0x9e3779b1) >> 7; }
