// Public dedup API: libbpf's btf__dedup (byte-identical output), plus the
// btf__add_btf-style concatenation used to build dedup inputs. Thin wrappers
// over the core (assembly/dedup.ts, assembly/append.ts).

import { Btf } from "./btf.js";
import { guard, lastError } from "./core.js";
import { BtfError } from "./errors.js";

/**
 * Deduplicate `btf` as libbpf's btf__dedup does: the same types in the same
 * order and the same string section. A split BTF is deduplicated against its
 * base (types equal to base types fold into base ids). Returns a new Btf on
 * the same base; the input is unchanged.
 */
export function dedup(btf: Btf): Btf {
  btf.core(); // throws on a freed or stale object
  return guard((c) => {
    const h = c.btfDedup(btf.handle);
    if (h < 0) throw lastError(c, btf.file);
    return new Btf(h, btf.base, btf.file);
  });
}

export interface ConcatOptions {
  /** Make the result split BTF on this base (parts that are split must sit on it). */
  base?: Btf;
}

/**
 * A new BTF with the own types of every part in turn, ids shifted, strings
 * re-added in first-use order (on a base: base strings keep base offsets):
 * btf__new_empty(_split) + btf__add_btf per part.
 */
export function concatBtf(parts: Btf[], opts: ConcatOptions = {}): Btf {
  if (parts.length === 0) throw new BtfError("USAGE", "concatBtf needs at least one BTF object");
  for (const p of parts) p.core();
  const base = opts.base ?? parts.find((p) => p.base)?.base;
  return guard((c) => {
    let acc: Btf | undefined;
    // Two parts in the first step, then the result so far and the next part.
    for (let i = 0; i < parts.length; i++) {
      const first = acc ?? parts[i];
      const second = acc ? parts[i] : parts[++i];
      const h = c.btfConcat(base ? base.handle : -1, first.handle, second ? second.handle : -1);
      if (h < 0) {
        acc?.free();
        throw lastError(c, (second ?? first).file);
      }
      const next = new Btf(h, base);
      acc?.free();
      acc = next;
    }
    return acc!;
  });
}

declare module "./btf.js" {
  interface Btf {
    /** libbpf btf__dedup: a new, deduplicated Btf (see dedup()). */
    dedup(): Btf;
  }
}

Btf.prototype.dedup = function (this: Btf): Btf { return dedup(this); };
