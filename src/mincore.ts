// Tailored BTF (bpftool's `gen min_core_btf`, module-aware). The marking and
// writing are the core's (assembly/mincore.ts); this file moves handles.

import { guard, lastError, takeResult, copyInCString } from "./core.js";
import { Btf } from "./btf.js";
import { BtfError } from "./errors.js";

/** libbpf's relocation kind names (as in `btfkit core --format tsv`) -> enum bpf_core_relo_kind. */
export const RELO_KINDS: Record<string, number> = {
  byte_off: 0, byte_sz: 1, field_exists: 2, signed: 3, lshift_u64: 4, rshift_u64: 5,
  local_type_id: 6, target_type_id: 7, type_exists: 8, type_size: 9,
  enumval_exists: 10, enumval_value: 11, type_matches: 12,
};

/**
 * @internal A marking session on one kernel: record target specs (what
 * libbpf's resolver chose), then build the tailored BTF. minCore() drives it
 * from the resolver; tests drive it with hand-made specs.
 */
export class MinCoreSession {
  private handle: number;
  private targets: Btf[];

  constructor(vmlinux: Btf, modules: Btf[] = []) {
    this.targets = [vmlinux];
    this.handle = guard((c) => {
      const h = c.minCoreNew(vmlinux.handle);
      if (h < 0) throw lastError(c, vmlinux.file);
      return h;
    });
    for (const m of modules) this.addModule(m);
  }

  /** Add a module BTF split on the vmlinux; returns its target index. */
  addModule(m: Btf): number {
    return guard((c) => {
      const i = c.minCoreAddModule(this.handle, m.handle);
      if (i < 0) throw lastError(c, m.file);
      this.targets.push(m);
      return i;
    });
  }

  /** Index of a target BTF (0 vmlinux, then modules in order), or -1. */
  targetIndex(b: Btf): number { return this.targets.indexOf(b); }

  /**
   * Keep what one relocation needs: its kind (name or libbpf number), the
   * target where the first matching candidate was found, the candidate's
   * root type id and the target access spec (0 root: nothing matched).
   */
  record(kind: string | number, target: number, root: number, spec: readonly number[]): void {
    const k = typeof kind === "number" ? kind : RELO_KINDS[kind];
    if (k === undefined) throw new BtfError("USAGE", `unknown relocation kind ${kind}`);
    guard((c) => {
      const p = c.memAlloc(Math.max(4, spec.length * 4));
      new Uint32Array(c.memory.buffer, p, spec.length).set(spec);
      const ok = c.minCoreRecord(this.handle, k, target, root, p, spec.length);
      c.memFree(p);
      if (!ok) throw lastError(c);
    });
  }

  /** vmlinux has a candidate for a local root type of this name and kind (libbpf kind number). */
  guardName(name: string, kind: number): void {
    guard((c) => {
      const p = copyInCString(name, c);
      c.minCoreGuard(this.handle, p, kind);
      c.memFree(p);
    });
  }

  /** The tailored BTF, raw (24-byte header). */
  build(): { btf: Uint8Array; types: number } {
    return guard((c) => {
      if (!c.minCoreBuild(this.handle)) throw lastError(c);
      const btf = takeResult(c);
      return { btf, types: c.minCoreTypesKept(this.handle) };
    });
  }

  free(): void {
    guard((c) => c.minCoreFree(this.handle));
  }
}
