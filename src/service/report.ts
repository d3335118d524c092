// The compatibility report (the schema of issue 3, shared with `btfkit check
// --json`), and the check this service runs per kernel.
//
// Until the core's check lands, the check is what can honestly be said
// without it: does the kernel accept the module's BTF as split BTF on its own
// (parse with the kernel's load-time validation)? `checker` in the response
// says which check ran. The integrator replaces checkOnKernel's body with the
// real check (same inputs, same Result).

import { loadBtf, BtfError, KIND_NAMES } from "../index.js";
import type { Btf } from "../btf.js";

export interface Problem {
  type: string | null;
  kind: string | null;
  distilledId: number | null;
  reason: string;
  expected: string | null;
  found: string | null;
  path: string | null;
}

export interface Result {
  module: string;
  kernel: string;
  ok: boolean;
  problems: Problem[];
}

export interface Report {
  /** Which check produced the results: "parse" until the core's check lands. */
  checker: string;
  results: Result[];
}

export const CHECKER = "parse";

/** Error codes that say the module itself is unreadable, whichever kernel it meets. */
export const INPUT_ERRORS = new Set([
  "TRUNCATED", "BAD_MAGIC", "BAD_VERSION", "BAD_FLAGS", "BAD_HEADER", "BAD_SECTION", "SECTION_OVERLAP",
  "BAD_ALIGN", "BAD_ELF", "NO_BTF", "BAD_BTF_EXT", "TOO_LARGE", "BAD_COMPRESSED", "UNSUPPORTED",
]);

export interface CheckOptions {
  /** Cap on the module's decompressed size. */
  maxDecompressed?: number;
}

/**
 * Check one module against one kernel. Throws a BtfError whose code is in
 * INPUT_ERRORS when the module is unreadable as such (the caller answers 400);
 * any other failure is this kernel's verdict.
 */
export async function checkOnKernel(module: Uint8Array, moduleName: string, kernel: Btf, kernelName: string, opts: CheckOptions = {}): Promise<Result> {
  let btf: Btf | undefined;
  try {
    btf = await loadBtf(module, { base: kernel, validate: "kernel", file: moduleName, maxSize: opts.maxDecompressed });
    return { module: moduleName, kernel: kernelName, ok: true, problems: [] };
  } catch (e) {
    if (!(e instanceof BtfError) || INPUT_ERRORS.has(e.code)) throw e;
    let type: string | null = null;
    let kind: string | null = null;
    if (e.typeId !== undefined && e.typeId > 0 && e.typeId < kernel.typeCount) {
      const t = kernel.type(e.typeId);
      type = t.name || null;
      kind = KIND_NAMES[t.kind] ?? null;
    }
    return {
      module: moduleName,
      kernel: kernelName,
      ok: false,
      problems: [{
        type: type ?? (e.typeId !== undefined ? `[${e.typeId}]` : null),
        kind,
        distilledId: null,
        reason: e.code,
        expected: null,
        found: e.message,
        path: null,
      }],
    };
  } finally {
    btf?.free();
  }
}
