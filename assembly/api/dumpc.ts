// Exports of the C header dump (bpftool `btf dump ... format c`).

import { clearError } from "../errors";
import { getBtf, newResult } from "../handles";
import { dumpC } from "../dump/c";

/**
 * The C header of BTF handle `h` into the result sink. `flags`: 1 unsorted
 * (type-id order), 2 bare (no vmlinux.h framing and no kfunc block), 4
 * bpftool-compat (skip the first sorted type, as bpftool does). `ptrSize` 0
 * means the BTF's own, else 8. `roots` points at `nroots` u32 type ids to dump
 * alone (with what they need), or nroots 0 for everything.
 */
export function dumpCHeader(h: i32, flags: u32, ptrSize: i32, roots: usize, nroots: u32): bool {
  clearError();
  const b = getBtf(h);
  if (b === null) return false;
  return dumpC(b, newResult(16), flags, ptrSize, roots, nroots);
}
