// A distilled module file: what `btfkit distill X.ko --base V -o OUT.ko`
// writes, as pahole's distilled_base feature makes kbuild produce for an
// out-of-tree module. The module's .BTF is replaced by the split distilled
// onto a minimal base, that base is added as .BTF.base, and the ids in
// .BTF_ids are renumbered through distill's id map (as resolve_btfids would
// against .BTF.base). The CLI and the explorer both call this; the work is
// the core's (distill, ELF rewrite, .BTF_ids remap).

import type { Btf } from "./btf.js";
import { BtfError } from "./errors.js";
import { distill } from "./transform.js";
import { remapBtfIds, replaceElfSections } from "./elf.js";

/** The warning for a dropped signature, worded once for the CLI and the explorer. */
export const DROPPED_SIGNATURE = "dropped the module signature (it covers the old bytes); the kernel loads it unsigned (taint E) unless MODULE_SIG_FORCE=y";

export interface DistilledKo {
  /** The rewritten ELF file. */
  bytes: Uint8Array;
  /**
   * The input ended in a module signature, which is not carried over (it
   * covers the old bytes): the kernel loads the module unsigned (taint E)
   * unless MODULE_SIG_FORCE=y.
   */
  droppedSignature: boolean;
  /** How many ids in .BTF_ids were renumbered (0 without .BTF_ids). */
  remappedIds: number;
}

function requireElf(mod: Btf): void {
  if (mod.source?.container !== "elf") throw new BtfError("USAGE", "a distilled .ko is written from a module's ELF file: this BTF was not read from one", { file: mod.file });
}

/**
 * The module file `ko` (an ELF .ko, already decompressed, e.g. unwrap()'s
 * bytes) rewritten around `distilled`, a distill() of `mod` = the BTF parsed
 * from that same file on its kernel. Byte order follows the module's BTF.
 */
export function writeDistilledKo(ko: Uint8Array, mod: Btf, distilled: { base: Btf; split: Btf; idMap: Uint32Array }): DistilledKo {
  requireElf(mod);
  let bytes = ko;
  let remappedIds = 0;
  if (mod.source?.sections?.includes(".BTF_ids")) {
    const rm = remapBtfIds(bytes, distilled.idMap);
    bytes = rm.bytes;
    remappedIds = rm.remapped;
  }
  const w = replaceElfSections(bytes, {
    ".BTF": distilled.split.toBytes({ endian: mod.endian }),
    ".BTF.base": distilled.base.toBytes({ endian: mod.endian }),
  });
  return { bytes: w.bytes, droppedSignature: w.droppedSignature, remappedIds };
}

/** distill() the module `mod` (parsed from the ELF file `ko` on its kernel) and write the distilled .ko. */
export function distillKo(ko: Uint8Array, mod: Btf): DistilledKo {
  requireElf(mod);
  const d = distill(mod);
  try {
    return writeDistilledKo(ko, mod, d);
  } finally {
    d.split.free();
    d.base.free();
  }
}
