// Appending one BTF's own types to a builder, in the spirit of libbpf's
// btf__add_btf: records are copied, every string is re-added (so the
// destination's section stays deduplicated in first-use order) and every
// own type id is shifted to the destination's numbering. It builds the
// "same types twice" inputs that dedup is tested on.

import { Btf } from "./btf";
import { BtfBuilder } from "./write";
import { Err, fail } from "./errors";
import { COMMON_LEN, trailingLen } from "./format";
import { strFieldAddr, strFieldCount, typeIdFieldAddr, typeIdFieldCount } from "./fields";

/**
 * Append `src`'s own types to `dst`. A split `src` must sit on `dst`'s base
 * (its base ids stay); a base `src` may go anywhere (all its ids shift).
 */
export function appendBtf(dst: BtfBuilder, src: Btf): bool {
  if (src.base !== null && src.base !== dst.base) return fail(Err.USAGE, -1, 0, "append: a split BTF can only be appended onto its own base");
  const first = src.startId;
  const shift = dst.typeCnt() - first;
  const cnt = src.typeCnt();
  for (let id = first; id < cnt; id++) {
    const p = src.ownRec(id);
    const kind = src.recKind(p);
    const vlen = src.recVlen(p);
    const tl = trailingLen(kind, vlen);
    if (tl < 0 || kind == 0) return fail(Err.UNSUPPORTED, -1, id, "append: type [" + id.toString() + "] has a kind only a layout section describes");
    const nid = dst.addRaw(p, COMMON_LEN + <u32>tl);
    const q = dst.recOf(nid);
    const ns = strFieldCount(kind, vlen);
    for (let i: u32 = 0; i < ns; i++) {
      const a = strFieldAddr(q, kind, i);
      const off = load<u32>(a);
      if (off != 0) store<u32>(a, dst.addStr(src.str(off)));
    }
    const ni = typeIdFieldCount(kind, vlen);
    for (let i: u32 = 0; i < ni; i++) {
      const a = typeIdFieldAddr(q, kind, i);
      const t = load<u32>(a);
      if (t >= first) store<u32>(a, t + shift);
    }
  }
  return true;
}
