// Exports for dedup (libbpf btf__dedup) and for building dedup inputs
// (btf__add_btf-style concatenation).

import { Btf } from "../btf";
import { Err, fail, clearError } from "../errors";
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
 * A new BTF holding the own types of `a` followed by those of `b` (ids of
 * `b` shifted), as btf__new_empty + btf__add_btf(a) + btf__add_btf(b).
 * Both must have the same base, or none.
 */
export function btfConcat(a: i32, b: i32): i32 {
  clearError();
  const x = getBtf(a);
  if (x === null) return -1;
  const y = getBtf(b);
  if (y === null) return -1;
  if (x.base !== y.base) { fail(Err.USAGE, -1, 0, "concat: the two BTF objects have different bases"); return -1; }
  const base: Btf | null = x.base;
  if (base !== null) base.retain();
  const w = new BtfBuilder(base);
  let out: Btf | null = null;
  if (appendBtf(w, x) && appendBtf(w, y)) out = w.finish();
  w.dispose();
  if (base !== null) base.release();
  return out === null ? -1 : putBtf(out);
}
