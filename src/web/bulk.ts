// Bulk copies out of the core for the explorer's worker (assembly/api/web.ts):
// all names, all kinds, and the reverse-reference index, each one call and
// one copy, so the worker never walks the type table record by record.

import { guard, takeResult, lastError } from "../core.js";
import type { Btf } from "../btf.js";

/** Names of types [from, typeCount) as UTF-8, one "\n"-terminated line each. */
export function typeNames(btf: Btf, from = 1): Uint8Array {
  return guard((c) => {
    if (!c.webNames(btf.handle, from)) throw lastError(c, btf.file);
    return takeResult(c);
  });
}

/** Kinds of types [from, typeCount), one byte each. */
export function typeKinds(btf: Btf, from = 1): Uint8Array {
  return guard((c) => {
    if (!c.webKinds(btf.handle, from)) throw lastError(c, btf.file);
    return takeResult(c);
  });
}

/** Who refers to whom, for every id of `btf` (base ids included for split BTF). */
export class ReverseIndex {
  private constructor(readonly offsets: Uint32Array, readonly refs: Uint32Array) {}

  static build(btf: Btf): ReverseIndex {
    const raw = guard((c) => {
      if (!c.webReferrers(btf.handle)) throw lastError(c, btf.file);
      return takeResult(c);
    });
    // takeResult returns a fresh, 4-aligned buffer: view it in place.
    const words = new Uint32Array(raw.buffer, raw.byteOffset, raw.byteLength >>> 2);
    const n = words[0];
    return new ReverseIndex(words.subarray(1, n + 2), words.subarray(n + 2));
  }

  /** Ids of the types that refer to `id`, ascending. */
  referrers(id: number): Uint32Array {
    if (id <= 0 || id + 1 >= this.offsets.length) return new Uint32Array(0);
    return this.refs.subarray(this.offsets[id], this.offsets[id + 1]);
  }
}
