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

/**
 * A new BTF with the own types of every part in turn, ids shifted, strings
 * re-added in first-use order: btf__new_empty + btf__add_btf per part. At
 * least two parts, all on one base or on none.
 */
export function concatBtf(parts: Btf[]): Btf {
  if (parts.length < 2) throw new BtfError("USAGE", "concatBtf needs at least two BTF objects");
  for (const p of parts) p.core();
  return guard((c) => {
    let acc: Btf | undefined;
    let prev = parts[0];
    for (let i = 1; i < parts.length; i++) {
      const h = c.btfConcat(prev.handle, parts[i].handle);
      if (h < 0) {
        acc?.free();
        throw lastError(c, parts[i].file);
      }
      const next = new Btf(h, parts[0].base);
      acc?.free();
      acc = next;
      prev = next;
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
