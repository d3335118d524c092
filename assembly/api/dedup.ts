// Exports for dedup (libbpf btf__dedup) and for building dedup inputs
// (btf__add_btf-style concatenation).

import { Btf } from "../btf";
import { clearError } from "../errors";
import { getBtf, putBtf } from "../handles";
import { dedupBtf } from "../dedup";
import { appendBtf } from "../append";
import { BtfBuilder } from "../write";

/**
 * Deduplicate BTF `h` (its own types, against its base when split) as
 * libbpf's btf__dedup does. Returns a handle on a new object (same base), or
 * -1 on error.
 */
export function btfDedup(h: i32): i32 {
  clearError();
  const b = getBtf(h);
  if (b === null) return -1;
  const out = dedupBtf(b);
  return out === null ? -1 : putBtf(out);
}

/**
 * A new BTF on `base` (-1: none) holding the own types of `a` followed by
 * those of `b` (-1: none), ids shifted, as btf__new_empty(_split) followed
 * by btf__add_btf(a) and btf__add_btf(b). A split part must sit on `base`.
 */
export function btfConcat(base: i32, a: i32, b: i32): i32 {
  clearError();
  let bb: Btf | null = null;
  if (base >= 0) {
    bb = getBtf(base);
    if (bb === null) return -1;
  }
  const x = getBtf(a);
  if (x === null) return -1;
  let y: Btf | null = null;
  if (b >= 0) {
    y = getBtf(b);
    if (y === null) return -1;
  }
  if (bb !== null) bb.retain();
  const w = new BtfBuilder(bb);
  let out: Btf | null = null;
  if (appendBtf(w, x) && (y === null || appendBtf(w, y))) out = w.finish();
  w.dispose();
  if (bb !== null) bb.release();
  return out === null ? -1 : putBtf(out);
}
