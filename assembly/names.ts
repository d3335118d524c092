// A name index over one Btf's own types: name contents -> the ids carrying it,
// in ascending id order. Built once, lazily (O(n)), and kept on the object, so
// repeated lookups (check --strict, the explorer, the CLI's --root) never scan
// the type table.

import { cstrHash, cstreq, nextPow2 } from "./bytes";
import { Btf } from "./btf";
import { T_NAME } from "./format";

export class NameIndex {
  /** Hash buckets: first id of the chain (0 = empty), open addressing over distinct names. */
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
    this.heads = heap.alloc(<usize>cap << 2);
    memory.fill(this.heads, 0, <usize>cap << 2);
    this.next = heap.alloc(<usize>max<u32>(count, 1) << 2);
    memory.fill(this.next, 0, <usize>max<u32>(count, 1) << 2);
  }

  /** Slot of the chain for the name at `p` (its head is 0 when absent). */
  slot(p: usize, owner: Btf): usize {
    let i = cstrHash(p) & this.mask;
    while (true) {
      const a = this.heads + (<usize>i << 2);
      const h = load<u32>(a);
      if (h == 0 || cstreq(owner.str(load<u32>(owner.ownRec(h), T_NAME)), p)) return a;
      i = (i + 1) & this.mask;
    }
  }

  dispose(): void {
    heap.free(this.heads);
    heap.free(this.next);
  }
}
