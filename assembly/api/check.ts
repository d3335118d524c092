// Exports for `check`: the strict layout comparison (layout.ts).

import { clearError, fail, Err } from "../errors";
import { getBtf, newResult } from "../handles";
import { LayoutDiff } from "../layout";
import { parseBtf, LEVEL_KERNEL_LOAD } from "../parse";
import { cstrlen } from "../bytes";
import {
  KIND_ARRAY, KIND_CONST, KIND_RESTRICT, KIND_STRUCT, KIND_TYPEDEF, KIND_TYPE_TAG,
  KIND_UNION, KIND_VOLATILE, MEMBER_LEN,
} from "../format";
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

/**
 * Ids below the split's startId (base types) that the split embeds: reached
 * from a member of a split STRUCT/UNION through typedefs, modifiers and
 * arrays, with no pointer on the way (libbpf's BTF_IS_EMBEDDED rule in
 * btf_mark_embedded_composite_type_ids). Written as u32s to the result sink;
 * returns how many.
 */
export function embeddedBaseTypes(h: i32): i32 {
  clearError();
  const s = getBtf(h);
  if (s === null) return -1;
  const out = newResult(64);
  const start = s.startId;
  const cnt = s.typeCnt();
  const marked = new Set<u32>();
  for (let id = start; id < cnt; id++) {
    const k = s.kind(id);
    if (k != KIND_STRUCT && k != KIND_UNION) continue;
    const n = s.vlen(id);
    const m0 = s.extra(id);
    for (let i: u32 = 0; i < n; i++) {
      let t = load<u32>(m0 + <usize>i * MEMBER_LEN, 4);
      // Chains are loop-free after validation; the guard only bounds the walk.
      for (let guard = 0; guard < 1 << 20 && t != 0; guard++) {
        const tk = s.kind(t);
        if (tk == KIND_CONST || tk == KIND_VOLATILE || tk == KIND_RESTRICT || tk == KIND_TYPEDEF || tk == KIND_TYPE_TAG) t = s.sizeOrType(t);
        else if (tk == KIND_ARRAY) t = load<u32>(s.extra(t));
        else {
          if ((tk == KIND_STRUCT || tk == KIND_UNION) && t < start && !marked.has(t)) {
            marked.add(t);
            out.u32le(t);
          }
          break;
        }
      }
    }
  }
  return marked.size;
}

/**
 * Would a kernel whose vmlinux BTF is `base` accept this module BTF at load
 * (btf_parse_module without .BTF.base)? Parses [ptr, ptr+len) with exactly
 * the kernel's load-time checks, then drops the object. The memory stays the
 * caller's. Returns true, or false with the kernel's reason as the error.
 */
export function kernelLoadCheck(ptr: usize, len: u32, base: i32): bool {
  clearError();
  const b = getBtf(base);
  if (b === null) return false;
  // The kernel rejects foreign byte order outright ("Invalid magic").
  if (len >= 2 && load<u16>(ptr) == 0x9feb) return fail(Err.BAD_MAGIC, 0, 0, "invalid magic (foreign byte order)");
  const copy = heap.alloc(len == 0 ? 1 : len);
  memory.copy(copy, ptr, len);
  const btf = parseBtf(copy, len, copy, b, LEVEL_KERNEL_LOAD, 0);
  if (btf === null) { heap.free(copy); return false; }
  btf.release();
  return true;
}
