// Exports for `check`: the strict layout comparison (layout.ts).

import { clearError, fail, Err } from "../errors";
import { getBtf, newResult } from "../handles";
import { LayoutDiff } from "../layout";
import { cstrlen } from "../bytes";
/**
 * Compare the layout of `a` in BTF `ha` with `b` in BTF `hb`. The result sink
 * gets a JSON array of differences ({path, what, expected, found}); returns
 * the number of differences or -1.
 */
export function layoutCompare(ha: i32, a: u32, hb: i32, b: u32, rootName: usize): i32 {
  clearError();
  const A = getBtf(ha), B = getBtf(hb);
  if (A === null || B === null) return -1;
  if (a >= A.typeCnt() || b >= B.typeCnt()) { fail(Err.BAD_TYPE_ID, -1, a >= A.typeCnt() ? a : b, "type id out of range"); return -1; }
  const s = newResult(256);
  s.byte(0x5b);
  const d = new LayoutDiff(A, B, s);
  const n = d.compare(a, b, String.UTF8.decodeUnsafe(rootName, cstrlen(rootName), false));
  s.byte(0x5d);
  return <i32>n;
}
