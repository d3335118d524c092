// Exports for tailored BTF (mincore.ts). A min-core session holds one kernel
// (vmlinux plus any module BTFs) and its marks; relocation target specs are
// recorded into it, and build writes the tailored BTF to the result sink.

import { clearError, fail, Err } from "../errors";
import { getBtf, newResult } from "../handles";
import { MinCore } from "../mincore";

const sessions = new Array<MinCore | null>();

function getSession(h: i32): MinCore | null {
  if (h < 0 || h >= sessions.length || unchecked(sessions[h]) === null) {
    fail(Err.BAD_HANDLE, -1, 0, "invalid min-core handle " + h.toString());
    return null;
  }
  return unchecked(sessions[h]);
}

/** A session on the vmlinux BTF handle `vmlinuxH`; returns its handle or -1. */
export function minCoreNew(vmlinuxH: i32): i32 {
  clearError();
  const v = getBtf(vmlinuxH);
  if (v === null) return -1;
  if (v.base !== null) { fail(Err.USAGE, -1, 0, "the min-core kernel must be a base (vmlinux) BTF"); return -1; }
  for (let i = 0; i < sessions.length; i++) {
    if (unchecked(sessions[i]) === null) { unchecked(sessions[i] = new MinCore(v)); return i; }
  }
  sessions.push(new MinCore(v));
  return sessions.length - 1;
}

/** Add a module BTF handle (split on the session's vmlinux); returns its target index or -1. */
export function minCoreAddModule(h: i32, modH: i32): i32 {
  clearError();
  const s = getSession(h);
  if (s === null) return -1;
  const m = getBtf(modH);
  if (m === null) return -1;
  return s.addModule(m);
}

/**
 * Record a relocation's target spec: libbpf relocation kind, target index
 * (0 vmlinux, then modules in the order added), root type id (0: nothing
 * matched) and the raw access spec as `specLen` u32 words at `spec`.
 */
export function minCoreRecord(h: i32, kind: u32, target: i32, root: u32, spec: usize, specLen: u32): bool {
  clearError();
  const s = getSession(h);
  if (s === null) return false;
  return s.record(kind, target, root, spec, specLen);
}

/**
 * Records several target specs at once: `nWords` u32 words at `p`, per
 * record kind, target, root, n, then n raw spec words. Stops at the first
 * failure.
 */
export function minCoreRecordMany(h: i32, p: usize, nWords: u32): bool {
  clearError();
  const s = getSession(h);
  if (s === null) return false;
  const end = p + (<usize>nWords << 2);
  while (p < end) {
    if (p + 16 > end) return fail(Err.USAGE, -1, 0, "truncated min-core record list");
    const n = load<u32>(p, 12);
    if (p + 16 + (<usize>n << 2) > end) return fail(Err.USAGE, -1, 0, "truncated min-core record list");
    if (!s.record(load<u32>(p), <i32>load<u32>(p, 4), load<u32>(p, 8), p + 16, n)) return false;
    p += 16 + (<usize>n << 2);
  }
  return true;
}

/**
 * The local root type named `name` (C string) of `kind` is looked up by some
 * relocation: when vmlinux has a candidate for it, module types of that
 * name stay out of the candidates (the module rule). 1 guarded, 0 not.
 */
export function minCoreGuard(h: i32, name: usize, kind: u32): i32 {
  const s = getSession(h);
  if (s === null || load<u8>(name) == 0) return 0;
  return s.guard(name, kind) ? 1 : 0;
}

/** Write the tailored BTF to the result sink. */
export function minCoreBuild(h: i32): bool {
  clearError();
  const s = getSession(h);
  if (s === null) return false;
  return s.build(newResult(4096));
}

/** Types written by the last build. */
export function minCoreTypesKept(h: i32): u32 {
  const s = getSession(h);
  return s === null ? 0 : s.typesKept;
}

export function minCoreFree(h: i32): void {
  if (h < 0 || h >= sessions.length) return;
  const s = unchecked(sessions[h]);
  if (s === null) return;
  s.dispose();
  unchecked(sessions[h] = null);
  __collect();
}
