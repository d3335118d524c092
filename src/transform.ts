// Distill and relocate (libbpf btf__distill_base / btf__relocate), byte for
// byte. The work is the core's (assembly/distill.ts, assembly/relocate.ts);
// this file moves handles and decodes the result words. Relocation failures
// carry every failing distilled type with a reason, decoded only on failure.

import { guard, lastError, takeResult, CoreExports } from "./core.js";
import { Btf, KIND_NAMES, KindName } from "./btf.js";
import { BtfError } from "./errors.js";
import { dedup } from "./dedup.js";

export type RelocationReason = "missing" | "size" | "ambiguous" | "encoding" | "kind";

/** A distilled base type that cannot be matched in the new base. */
export interface RelocationProblem {
  /** The distilled type's name. */
  type: string;
  kind: KindName;
  /** Its id in the distilled base. */
  distilledId: number;
  /**
   * missing: no type of that name in the new base; size: only other sizes
   * (embedded structs must keep theirs); ambiguous: several candidates fit;
   * encoding: an INT of another encoding (e.g. char signedness); kind: the
   * name exists only as incompatible kinds.
   */
  reason: RelocationReason;
  /** size: bytes in the distilled base; encoding: its INT encoding; kind: its kind. */
  expected?: number | string;
  /** size: bytes in the new base; encoding: the new base's INT encoding; kind: the new base's kind. */
  found?: number | string;
  /** New base ids involved: the rivals (ambiguous) or the rejected same-name types. */
  candidates?: number[];
  /** For embedded structs: how the split embeds it, e.g. "struct foo.bar -> typedef baz_t -> struct device". */
  path?: string;
}

/** Thrown by relocate(): a BtfError with code RELOCATE_FAILED and every problem. */
export class RelocationError extends BtfError {
  readonly problems: RelocationProblem[];
  constructor(message: string, problems: RelocationProblem[], opts: { typeId?: number; file?: string } = {}) {
    super("RELOCATE_FAILED", message, opts);
    this.problems = problems;
  }
}

export interface RelocateOptions {
  /** Reproduce libbpf 1.5's embedded-marking loop bound (checks fewer embedded sizes). */
  compat15?: boolean;
  /** Then btf__dedup the result against the new base (what `relocate --dedup` does). */
  dedup?: boolean;
}

const REASONS: RelocationReason[] = ["missing", "missing", "size", "ambiguous", "encoding", "kind"];
const PROBLEM_WORDS = 10;
const BUILD = 1;
const COMPAT_15 = 2;

function words(bytes: Uint8Array): Uint32Array {
  // The result is a fresh copy, 4-byte aligned at offset 0.
  return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2);
}

/** btf__distill_base: a distilled base and a new split on it, with the old -> new id map (0 = not kept). */
export function distill(split: Btf): { base: Btf; split: Btf; idMap: Uint32Array } {
  return runDistill(split, true);
}

/**
 * @internal distill() without the id map. The map spans the whole kernel
 * (400 KB a module); check distills every module and never reads it.
 */
export function distillParts(split: Btf): { base: Btf; split: Btf } {
  return runDistill(split, false);
}

const WITH_MAP = 1;

function runDistill(split: Btf, withMap: boolean): { base: Btf; split: Btf; idMap: Uint32Array } {
  return guard((c) => {
    if (!c.btfDistill(split.handle, withMap ? WITH_MAP : 0)) throw lastError(c, split.file);
    const w = words(takeResult(c));
    const base = new Btf(w[0], undefined, split.file);
    base.source = { layers: [], container: "raw" };
    const out = new Btf(w[1], base, split.file);
    out.source = { layers: [], container: "raw", distilledBase: base };
    return new Distilled(base, out, w);
  });
}

/**
 * A distill result. The id map spans the whole kernel (400 KB) but the core
 * sends only its entries (see assembly/api/transform.ts): it is expanded
 * when first read.
 */
class Distilled {
  #words: Uint32Array | undefined;
  #idMap: Uint32Array | undefined;
  constructor(readonly base: Btf, readonly split: Btf, words: Uint32Array) { this.#words = words; }

  get idMap(): Uint32Array {
    if (this.#idMap) return this.#idMap;
    const w = this.#words!;
    const [mapLen, denseFrom, pairs] = [w[2], w[3], w[4]];
    const map = new Uint32Array(mapLen);
    let at = 5;
    for (let i = 0; i < pairs; i++, at += 2) map[w[at]] = w[at + 1];
    if (mapLen > denseFrom) map.set(w.subarray(at, at + mapLen - denseFrom), denseFrom);
    this.#words = undefined;
    return (this.#idMap = map);
  }
}

interface RawRelocation { handle: number; idMap: Uint32Array; problems: RelocationProblem[] }

/**
 * One btf__relocate in the core. A failure that is a list of problems throws
 * a RelocationError only with `throwProblems`: check asks for the problems of
 * thousands of pairs and an Error (with its stack) per failing pair is
 * measurable there.
 */
function runRelocate(c: CoreExports, split: Btf, newBase: Btf, flags: number, throwProblems = true): RawRelocation {
  const ok = c.btfRelocate(split.handle, newBase.handle, flags);
  // Errors other than per-type problems leave no result.
  if (!ok && c.resultLen() === 0) throw lastError(c, split.file);
  // Take the result before reading the message, which reuses the result sink.
  const w = words(takeResult(c));
  const failure = ok || (!throwProblems && w[2 + w[1]] > 0) ? undefined : lastError(c, split.file);
  let at = 0;
  const handle = w[at++] | 0;
  const mapLen = w[at++];
  const idMap = w.subarray(at, at + mapLen);
  at += mapLen;
  const nProblems = w[at++];
  const probAt = at;
  at += nProblems * PROBLEM_WORDS;
  const nCands = w[at++];
  const candAt = at;
  at += nCands;
  const pathLen = w[at++];
  const pathBytes = new Uint8Array(w.buffer, w.byteOffset + at * 4, pathLen);
  const problems: RelocationProblem[] = [];
  if (nProblems > 0) {
    const dist = split.base;
    const dec = new TextDecoder();
    for (let i = 0; i < nProblems; i++) {
      const r = probAt + i * PROBLEM_WORDS;
      const reason = REASONS[w[r + 3]] ?? "missing";
      const p: RelocationProblem = {
        type: dist ? dist.str(w[r + 2]) : split.str(w[r + 2]),
        kind: (KIND_NAMES[w[r + 1] & 0xff] ?? "UNKNOWN") as KindName,
        distilledId: w[r],
        reason,
      };
      const exp = w[r + 4];
      const fnd = w[r + 5];
      if (reason === "size") { p.expected = exp; p.found = fnd; }
      else if (reason === "encoding") { p.expected = encodingName(exp); p.found = encodingName(fnd); }
      else if (reason === "kind") { p.expected = kindWordName(exp); p.found = kindWordName(fnd); }
      const nc = w[r + 7];
      if (nc > 0) p.candidates = Array.from(w.subarray(candAt + w[r + 6], candAt + w[r + 6] + nc));
      const pl = w[r + 9];
      if (pl > 0) p.path = dec.decode(pathBytes.subarray(w[r + 8], w[r + 8] + pl));
      problems.push(p);
    }
  }
  if (failure) {
    if (nProblems === 0) throw failure;
    throw new RelocationError(failure.message, problems, { typeId: failure.typeId, file: split.file });
  }
  return { handle, idMap, problems };
}

/**
 * btf__relocate: `split` (on its distilled base) moved onto `newBase`. Returns
 * the relocated split (a new Btf on newBase) and the map from old ids
 * (distilled base and split) to new ids. Throws a RelocationError
 * (RELOCATE_FAILED) listing every failing distilled type.
 */
export function relocate(split: Btf, newBase: Btf, opts: RelocateOptions = {}): { btf: Btf; idMap: Uint32Array } {
  return guard((c) => {
    const r = runRelocate(c, split, newBase, BUILD | (opts.compat15 ? COMPAT_15 : 0));
    let btf = new Btf(r.handle, newBase, split.file);
    btf.source = { layers: [], container: "raw", relocated: true };
    if (opts.dedup) {
      // The id map stays the relocation's (before dedup folded types into the base).
      const d = dedup(btf);
      btf.free();
      btf = d;
      btf.source = { layers: [], container: "raw", relocated: true };
    }
    return { btf, idMap: r.idMap };
  });
}

/**
 * The distilled types that keep `split` from relocating onto `newBase` (empty
 * when it relocates). Builds nothing; the new base's name index is built once
 * and kept with it, so checking many modules against one kernel stays cheap.
 * Still throws for inputs that are not a distilled split (BAD_DISTILLED_BASE, ...).
 */
export function relocationProblems(split: Btf, newBase: Btf, opts: RelocateOptions = {}): RelocationProblem[] {
  return guard((c) => runRelocate(c, split, newBase, opts.compat15 ? COMPAT_15 : 0, false).problems);
}

/** The id map as text in the golden `.map` format (see golden/README.md). */
export function relocationMapText(split: Btf, newBase: Btf, idMap: Uint32Array): Uint8Array {
  return guard((c) => {
    const ptr = c.memAlloc(idMap.length * 4);
    try {
      new Uint32Array(c.memory.buffer, ptr, idMap.length).set(idMap);
      if (!c.relocMapText(split.handle, newBase.handle, ptr, idMap.length)) throw lastError(c, split.file);
    } finally {
      c.memFree(ptr);
    }
    return takeResult(c);
  });
}

const ENCODINGS = ["(none)", "SIGNED", "CHAR", "SIGNED CHAR", "BOOL"];
function encodingName(e: number): string { return ENCODINGS[e] ?? `encoding ${e}`; }
function kindWordName(w: number): string {
  const k = KIND_NAMES[w & 0xff] ?? `kind ${w & 0xff}`;
  return w & 0x100 ? `${k} (kind_flag 1)` : k;
}

/** One line for a problem, e.g. "STRUCT 'device' [20]: size 752 in the distilled base, 744 in the new base [1484]; embedded: struct foo.dev -> struct device". */
export function describeProblem(p: RelocationProblem): string {
  const what = `${p.kind} '${p.type}' [${p.distilledId}]`;
  const ids = p.candidates?.length ? ` [${p.candidates.join(", ")}]` : "";
  switch (p.reason) {
    case "missing":
      return `${what}: missing: no INT/FLOAT/ENUM/STRUCT/UNION/FWD of that name in the new base`;
    case "size":
      return `${what}: size ${p.expected} in the distilled base, ${p.found} in the new base${ids}` +
        (p.path ? `; embedded: ${p.path}` : "");
    case "ambiguous":
      return `${what}: ambiguous: several new base types fit${ids}`;
    case "encoding":
      return `${what}: encoding ${p.expected} in the distilled base, ${p.found} in the new base${ids}`;
    case "kind":
      return `${what}: kind: the new base has it only as ${p.found}${ids}`;
  }
}
