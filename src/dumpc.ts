// The C header dump: byte-identical to `bpftool btf dump file F format c`
// (libbpf btf_dump with bpftool's sorting, framing and kfunc prototypes).
// The whole dump runs in the core; this file turns options into flags and
// root names into ids (through the core's name lookup).

import { guard, lastError, takeResult } from "./core.js";
import { BtfError } from "./errors.js";
import { Btf, KindName } from "./btf.js";

export interface DumpCOptions {
  /** Type-id order instead of bpftool's default sorted order (bpftool `unsorted`). */
  unsorted?: boolean;
  /**
   * Dump only these types and what they need, in the given order (bpftool's
   * root ids; no kfunc block then). A number is a type id; a string is a type
   * name, optionally with its kind: "sk_buff", "struct sk_buff", "union u",
   * "enum e", "typedef t". A name matching several types dumps them all.
   */
  roots?: Array<number | string>;
  /** Only the type definitions: no vmlinux.h guard, pragma, macros or kfunc block. */
  bare?: boolean;
  /**
   * Pointer size in bytes for alignment and padding. Default: the BTF's own
   * (from its `long`), else 8 (libbpf falls back to the host's; WASM is 32-bit).
   */
  ptrSize?: 4 | 8;
  /**
   * Reproduce bpftool exactly: its sorted dump starts at sorted position 1 and
   * so leaves out the type that sorts first. The default prints every type.
   */
  bpftoolCompat?: boolean;
}

const FLAG_UNSORTED = 1;
const FLAG_BARE = 2;
const FLAG_BPFTOOL_COMPAT = 4;

const KIND_WORDS: Record<string, KindName[]> = {
  struct: ["STRUCT"],
  union: ["UNION"],
  enum: ["ENUM", "ENUM64"],
  typedef: ["TYPEDEF"],
};

/** Type ids for a root given as an id or a (kind-qualified) name. */
export function resolveRoot(btf: Btf, root: number | string): number[] {
  if (typeof root === "number" || /^\d+$/.test(root)) {
    const id = Number(root);
    if (!Number.isInteger(id) || id < 0 || id >= btf.typeCount)
      throw new BtfError("BAD_TYPE_ID", `type id ${root} out of range (0..${btf.typeCount - 1})`, { typeId: id });
    return [id];
  }
  const m = /^(struct|union|enum|typedef)\s+(\S+)$/.exec(root.trim());
  const ids = m
    ? KIND_WORDS[m[1]].flatMap((k) => btf.find(m[2], k)).sort((a, b) => a - b)
    : btf.find(root.trim());
  if (ids.length === 0) throw new BtfError("USAGE", `no type named '${root}'`);
  return ids;
}

/** The C header as UTF-8 bytes (several MB for a vmlinux: prefer this to a string). */
export function dumpCBytes(btf: Btf, opts: DumpCOptions = {}): Uint8Array {
  const ids = (opts.roots ?? []).flatMap((r) => resolveRoot(btf, r));
  if (opts.roots && ids.length === 0) throw new BtfError("USAGE", "roots given but empty");
  const ptrSize = opts.ptrSize ?? 0;
  if (ptrSize !== 0 && ptrSize !== 4 && ptrSize !== 8) throw new BtfError("USAGE", `pointer size must be 4 or 8, not ${ptrSize}`);
  const flags = (opts.unsorted ? FLAG_UNSORTED : 0) | (opts.bare ? FLAG_BARE : 0) | (opts.bpftoolCompat ? FLAG_BPFTOOL_COMPAT : 0);
  btf.core(); // throws if the Btf was freed
  const handle = btf.handle;
  return guard((c) => {
    const roots = ids.length ? c.memAlloc(ids.length * 4) : 0;
    try {
      if (roots) new Uint32Array(c.memory.buffer, roots, ids.length).set(ids);
      if (!c.dumpCHeader(handle, flags, ptrSize, roots, ids.length)) throw lastError(c, btf.file);
      return takeResult(c);
    } finally {
      if (roots) c.memFree(roots);
    }
  });
}

/** The C header as a string. */
export function dumpC(btf: Btf, opts: DumpCOptions = {}): string {
  return new TextDecoder().decode(dumpCBytes(btf, opts));
}

// Btf#dumpC / Btf#dumpCBytes: thin methods over the functions above, added
// here so the feature stays in one file.
declare module "./btf.js" {
  interface Btf {
    /** The C header (see DumpCOptions), as `bpftool btf dump file F format c`. */
    dumpC(opts?: DumpCOptions): string;
    /** The C header as UTF-8 bytes. */
    dumpCBytes(opts?: DumpCOptions): Uint8Array;
  }
}
Btf.prototype.dumpC = function (this: Btf, opts?: DumpCOptions): string { return dumpC(this, opts); };
Btf.prototype.dumpCBytes = function (this: Btf, opts?: DumpCOptions): Uint8Array { return dumpCBytes(this, opts); };
