// Exports for distill and relocate. Results go to the result sink as u32
// words (little-endian) for the host to decode:
//  btfDistill:  base handle, split handle, id map length (0 without flag 1),
//               the first id mapped densely (the split's first), the number of
//               (old id, new id) pairs for the ids below it, those pairs, then
//               the map's words from that id on. The map spans the whole
//               kernel (400 KB a module) but has entries for a few hundred
//               base ids: callers expand it only when they read it.
//  btfRelocate: relocated handle (-1 when none), id map length, id map words,
//               problem count, problems (PROBLEM_WORDS each, see relocate.ts),
//               candidate count, candidate ids, path byte count, path bytes.

import { clearError } from "../errors";
import { getBtf, putBtf, newResult, freeResult } from "../handles";
import { distill } from "../distill";
import { relocate, writeRelocMap, PROBLEM_WORDS } from "../relocate";

/** btf__distill_base of split BTF `h`. flags: 1 also return the id map. */
export function btfDistill(h: i32, flags: u32): bool {
  clearError();
  const src = getBtf(h);
  if (src === null) return false;
  const r = distill(src);
  if (r === null) return false;
  const map = r.idMap;
  const withMap = (flags & 1) != 0;
  // The map spans the whole kernel, but only the base types the module
  // needs (a few hundred) and the module's own ids have entries: base ids
  // go as (old, new) pairs, the module's ids densely.
  const denseFrom = src.startId;
  const baseIds = r.baseIds;
  const pairs: u32 = withMap ? baseIds.len : 0;
  const denseLen = map.len - denseFrom;
  const s = newResult(20 + (withMap ? (pairs << 3) + (denseLen << 2) : 0));
  s.u32le(<u32>putBtf(r.base));
  s.u32le(<u32>putBtf(r.split));
  s.u32le(withMap ? map.len : 0);
  s.u32le(withMap ? denseFrom : 0);
  s.u32le(pairs);
  if (withMap) {
    for (let i: u32 = 0; i < pairs; i++) {
      const id = baseIds.get(i);
      s.u32le(id);
      s.u32le(map.get(id));
    }
    s.bytes(map.ptr + (<usize>denseFrom << 2), denseLen << 2);
  }
  r.idMap.dispose();
  r.baseIds.free();
  return true;
}

/**
 * btf__relocate of split `splitH` (on its distilled base) onto `baseH`.
 * flags: 1 build the relocated BTF, 2 libbpf 1.5's embedded-marking bound.
 * True when it relocates; false with RELOCATE_FAILED (problems in the
 * result) or another error (empty result).
 */
export function btfRelocate(splitH: i32, baseH: i32, flags: u32): bool {
  clearError();
  freeResult(); // an empty result tells the host the failure is not a list of problems
  const split = getBtf(splitH);
  if (split === null) return false;
  const base = getBtf(baseH);
  if (base === null) return false;
  const r = relocate(split, base, flags);
  if (r === null) return false;
  const map = r.idMap;
  const s = newResult(32 + (map.len << 2) + r.problems.len + r.cands.len + r.paths.len);
  let h: i32 = -1;
  if (r.btf !== null) {
    h = putBtf(r.btf!);
    r.btf = null; // the handle owns it now
  }
  s.u32le(<u32>h);
  s.u32le(map.len);
  s.bytes(map.ptr, map.len << 2);
  s.u32le(r.nProblems);
  s.bytes(r.problems.ptr, r.nProblems * PROBLEM_WORDS * 4);
  s.u32le(r.cands.len >> 2);
  s.bytes(r.cands.ptr, r.cands.len);
  s.u32le(r.paths.len);
  s.bytes(r.paths.ptr, r.paths.len);
  const ok = r.nProblems == 0;
  r.dispose();
  return ok;
}

/** The golden `.map` text for a relocation of `splitH` onto `baseH` with the id map at [mapPtr, +mapLen words). */
export function relocMapText(splitH: i32, baseH: i32, mapPtr: usize, mapLen: u32): bool {
  clearError();
  const split = getBtf(splitH);
  if (split === null) return false;
  const base = getBtf(baseH);
  if (base === null) return false;
  const s = newResult(64 + split.count * 24);
  return writeRelocMap(split, base, mapPtr, mapLen, s);
}
