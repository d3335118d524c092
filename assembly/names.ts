// A name index over one Btf's own types: name contents -> the ids carrying it,
// in ascending id order. Built once, lazily (O(n)), and kept on the object, so
// repeated lookups (check --strict, the explorer, the CLI's --root) never scan
// the type table. It knows names by address only, so it needs no Btf.

import { cstrHash, cstreq, nextPow2 } from "./bytes";

export class NameIndex {
  /** Slot pairs of u32 over distinct names: address of the name, first id of its chain (0 = free). */
  heads: usize;
  mask: u32;
  /** next[id - start]: the following id with the same name (0 = end). */
  next: usize;
  start: u32;
  count: u32;

  constructor(start: u32, count: u32) {
    this.start = start;
    this.count = count;
    const cap = nextPow2(max<u32>(16, count * 2));
    this.mask = cap - 1;
    this.heads = heap.alloc(<usize>cap << 3);
    memory.fill(this.heads, 0, <usize>cap << 3);
    this.next = heap.alloc(<usize>max<u32>(count, 1) << 2);
    memory.fill(this.next, 0, <usize>max<u32>(count, 1) << 2);
  }

  /** Slot of the chain for the name at `p` (its id is 0 when absent). */
  private slot(p: usize): usize {
    let i = cstrHash(p) & this.mask;
    while (true) {
      const a = this.heads + (<usize>i << 3);
      if (load<u32>(a, 4) == 0 || cstreq(<usize>load<u32>(a), p)) return a;
      i = (i + 1) & this.mask;
    }
  }

  /** The lowest id named like the string at `p`, or 0. */
  first(p: usize): u32 { return load<u32>(this.slot(p), 4); }

  /** The id after `id` in its name's chain, or 0. */
  @inline nextOf(id: u32): u32 { return load<u32>(this.next + (<usize>(id - this.start) << 2)); }

  /** Put `id` (named by the string at `name`) first in its chain: add ids in descending order. */
  prepend(name: usize, id: u32): void {
    const a = this.slot(name);
    store<u32>(this.next + (<usize>(id - this.start) << 2), load<u32>(a, 4));
    store<u32>(a, <u32>name);
    store<u32>(a, id, 4);
  }

  dispose(): void {
    heap.free(this.heads);
    heap.free(this.next);
  }
}
