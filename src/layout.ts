// Strict layout comparison of one type across two BTFs (check --strict).
import { Btf } from "./btf.js";
import { guard, copyInCString, lastError, takeResult, takeResultText } from "./core.js";

export interface LayoutDifference {
  /** Member path from the compared type, e.g. "device.kobj.name". */
  path: string;
  /** "offset", "size", "kind", "member" (present on one side only), "bitfield size", "typedef", "array length", "int", "pointee". */
  what: string;
  expected: string;
  found: string;
}

/** Differences between the layout of `aId` in `a` and of `bId` in `b` (empty when identical). */
export function layoutDiff(a: Btf, aId: number, b: Btf, bId: number, rootName = a.type(aId).name || "(anon)"): LayoutDifference[] {
  return guard((c) => {
    a.core();
    b.core();
    const p = copyInCString(rootName, c);
    try {
      const n = c.layoutCompare(a.handle, aId, b.handle, bId, p);
      if (n < 0) throw lastError(c);
      return JSON.parse(takeResultText(c)) as LayoutDifference[];
    } finally {
      c.memFree(p);
    }
  });
}

/** Base type ids that the split embeds (reached from a split struct/union member without a pointer). */
export function embeddedBaseTypes(split: Btf): Uint32Array {
  return guard((c) => {
    split.core();
    const n = c.embeddedBaseTypes(split.handle);
    if (n < 0) throw lastError(c);
    const raw = takeResult(c);
    return new Uint32Array(raw.buffer, raw.byteOffset, n).slice();
  });
}
