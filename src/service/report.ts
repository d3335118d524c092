// The compatibility report (the schema of `btfkit check --json`) and the
// check this service runs: the same Checker as the CLI (src/check.ts).

import { BtfError, Checker, unwrap, loadBtf } from "../index.js";
import type { Btf } from "../btf.js";
import type { ModuleInput, CheckResult } from "../check.js";

export type Result = CheckResult;

export interface Report {
  /** Which check produced the results ("relocate": distill + relocate, as `btfkit check`). */
  checker: string;
  results: Result[];
}

export const CHECKER = "relocate";

/** Error codes that say the module itself is unreadable, whichever kernel it meets. */
export const INPUT_ERRORS = new Set([
  "TRUNCATED", "BAD_MAGIC", "BAD_VERSION", "BAD_FLAGS", "BAD_HEADER", "BAD_SECTION", "SECTION_OVERLAP",
  "BAD_ALIGN", "BAD_ELF", "NO_BTF", "BAD_BTF_EXT", "TOO_LARGE", "BAD_COMPRESSED", "UNSUPPORTED",
  "BAD_STRINGS", "BAD_STR_OFFSET", "UNKNOWN_KIND", "BAD_TYPE_LEN", "BAD_TYPE_ID", "BAD_FUNC", "LOOP",
  "NO_BASE", "USAGE", "DISTILL_REFUSED",
]);

export interface CheckOptions {
  /** Cap on the module's decompressed size. */
  maxDecompressed?: number;
  /** The kernel the module was built against (needed when it has no .BTF.base). */
  builtAgainst?: { name: string; btf: Btf };
  strict?: boolean;
}

/**
 * Check one module against the named kernels. Throws a BtfError whose code is
 * in INPUT_ERRORS when the module is unreadable or cannot be judged (the
 * caller answers 400); otherwise one Result per kernel.
 */
export async function checkModule(module: Uint8Array, moduleName: string, kernels: { name: string; btf: Btf }[], opts: CheckOptions = {}): Promise<Result[]> {
  const u = await unwrap(module, { maxSize: opts.maxDecompressed });
  let input: ModuleInput;
  let owned: Btf | undefined;
  if (u.kind === "elf") {
    const btf = await loadBtf(u.bytes, { file: moduleName, maxSize: opts.maxDecompressed });
    const db = btf.source?.distilledBase;
    if (db) {
      input = { name: moduleName, distilled: { split: btf, base: db } };
      owned = btf;
    } else {
      input = { name: moduleName, raw: btf.toBytes() };
      btf.free();
    }
  } else {
    input = { name: moduleName, raw: u.bytes };
  }
  if (input.raw && !opts.builtAgainst) {
    throw new BtfError("USAGE", "the module has no .BTF.base: name the kernel it was built against (built-against=NAME)");
  }
  try {
    const checker = new Checker(kernels, { builtAgainst: opts.builtAgainst, strict: opts.strict });
    return checker.checkModule(input);
  } finally {
    owned?.free();
  }
}
