// Exports for `check`: the strict layout comparison (layout.ts).

import { clearError, fail, Err } from "../errors";
import { getBtf, newResult } from "../handles";
import { LayoutDiff } from "../layout";
import { parseBtf, LEVEL_KERNEL_LOAD, LEVEL_LIBBPF } from "../parse";
import { cstrlen } from "../bytes";
import { StrSet } from "../strings";
import {
  KIND_ARRAY, KIND_CONST, KIND_ENUM, KIND_RESTRICT, KIND_STRUCT, KIND_TYPEDEF, KIND_TYPE_TAG,
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

/**
 * Names seen by checkSizeRecords in this instance, interned: a name's offset
 * here is its key, the same for every module, so the host decodes each
 * distinct name once (from the bytes this table gained in the call that
 * first met it) and keys its size map with small integers.
 */
let sizeNames: StrSet | null = null;

/**
 * Check's per-module size records: every own STRUCT, UNION and ENUM of `h`
 * (in a distilled base these are all named) as 4 u32 words (id, kind, size,
 * name key), then the names this call added to the intern table, NUL-ended,
 * in key order (the first new one's key is the table's length before the
 * call). Returns how many records, or -1.
 */
export function checkSizeRecords(h: i32): i32 {
  clearError();
  const b = getBtf(h);
  if (b === null) return -1;
  if (sizeNames === null) sizeNames = new StrSet(false);
  const names = sizeNames!;
  const known = names.len;
  const start = b.startId;
  const cnt = b.typeCnt();
  let n: u32 = 0;
  for (let id = start; id < cnt; id++) {
    const k = b.kind(id);
    if (k == KIND_STRUCT || k == KIND_UNION || k == KIND_ENUM) n++;
  }
  const s = newResult(n * 16 + 16);
  for (let id = start; id < cnt; id++) {
    const k = b.kind(id);
    if (k != KIND_STRUCT && k != KIND_UNION && k != KIND_ENUM) continue;
    s.u32le(id);
    s.u32le(k);
    s.u32le(b.sizeOrType(id));
    s.u32le(names.add(b.name(id)));
  }
  s.u32le(known);
  s.bytes(names.data.ptr + known, names.len - known);
  return <i32>n;
}

/**
 * What a kernel whose vmlinux BTF is `base` does with this module's plain
 * split BTF (the module's bytes at [ptr, ptr+len), left to the caller):
 * 0 it refuses it at load (the error is the kernel's reason); 1 it accepts
 * it and libbpf would too; 2 it accepts it but libbpf would refuse it (the
 * error is libbpf's reason); -1 on a bad handle. One call per module x
 * kernel pair instead of two parses from the host.
 */
export function plainLoadVerdict(ptr: usize, len: u32, base: i32): i32 {
  if (!kernelLoadCheck(ptr, len, base)) return getBtf(base) === null ? -1 : 0;
  const b = getBtf(base)!;
  // Parsing may normalise the blob in place: parse a copy.
  const copy = heap.alloc(len == 0 ? 1 : len);
  memory.copy(copy, ptr, len);
  const btf = parseBtf(copy, len, copy, b, LEVEL_LIBBPF, 0);
  if (btf === null) { heap.free(copy); return 2; }
  btf.release();
  return 1;
}
