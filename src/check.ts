// Will this module's BTF relocate onto that kernel? For each module x kernel
// pair: distill the module on the kernel it was built against (once per
// module), relocate it onto each kernel as libbpf/the kernel would, and report
// every distilled type that fails with its reason. Kernels are parsed once and
// indexed once (the core caches its per-base index), then reused for every
// module. With `strict`, the full layout of every base struct the module uses
// is compared between the build-time kernel and the target: drift in embedded
// types is an error, in pointer-only types a warning. Modules without
// .BTF.base are also judged as they stand: plain split BTF is only right on
// the exact kernel it was built against.

import { Btf, KindName, KIND_NAMES } from "./btf.js";
import { BtfError } from "./errors.js";
import { distillParts, relocationProblems, RelocationProblem } from "./transform.js";
import { layoutDiff, embeddedBaseTypes } from "./layout.js";
import { guard, copyIn, lastError, lastErrorLine, takeResult, currentGeneration } from "./core.js";

/**
 * What the kernel runs on module BTF at load without .BTF.base
 * (btf_parse_module): header, strings, per-type meta checks, type tags on the
 * target's vmlinux. Returns the kernel's reason to refuse it, or undefined.
 */
export function kernelLoadCheck(raw: Uint8Array, vmlinux: Btf): BtfError | undefined {
  return guard((c) => {
    vmlinux.core();
    const p = copyIn(raw, c);
    try {
      return c.kernelLoadCheck(p, raw.length, vmlinux.handle) ? undefined : lastError(c);
    } finally {
      c.memFree(p);
    }
  });
}

export type Severity = "error" | "warning";

/** One problem of a module x kernel pair (the `problems` items of the JSON report). */
export interface CheckProblem {
  /** Type name. */
  type: string;
  kind: string;
  /** Id in the module's distilled base (0 for problems not tied to one). */
  distilledId: number;
  /** missing | size | ambiguous | encoding | kind | layout | plain-split */
  reason: string;
  expected?: string | number;
  found?: string | number;
  /** Embedding path (size) or member path (layout). */
  path?: string;
  candidates?: number[];
  severity: Severity;
}

/** What the kernel does with the module's plain split BTF (no .BTF.base). */
export interface PlainVerdict {
  /** exact: the very kernel it was built for; dropped: the kernel rejects the BTF (the module loads
   *  without it, or fails to load without CONFIG_MODULE_ALLOW_BTF_MISMATCH); wrong: the kernel accepts
   *  and publishes types that do not mean what the module meant. */
  verdict: "exact" | "dropped" | "wrong";
  detail: string;
}

export interface CheckResult {
  module: string;
  kernel: string;
  /** The module's BTF relocates onto the kernel (and, with strict, no layout error). */
  ok: boolean;
  problems: CheckProblem[];
  plain?: PlainVerdict;
}

export interface Disagreement {
  type: string;
  kind: string;
  /** size -> modules that recorded it. */
  sizes: Record<string, string[]>;
}

export interface CheckReport {
  results: CheckResult[];
  /** Modules checked together that disagree about the size of the same distilled type. */
  disagreements: Disagreement[];
  notes: string[];
}

export interface KernelInput {
  name: string;
  btf: Btf;
  /** The raw vmlinux BTF bytes, to recognise the exact build-time kernel. */
  raw?: Uint8Array;
}

export interface CheckOptions {
  /** The kernel the modules were built against (needed for modules without .BTF.base, and for strict). */
  builtAgainst?: KernelInput;
  strict?: boolean;
}

function sameBytes(a?: Uint8Array, b?: Uint8Array): boolean {
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function toProblem(p: RelocationProblem): CheckProblem {
  const out: CheckProblem = { type: p.type, kind: p.kind, distilledId: p.distilledId, reason: p.reason, severity: "error" };
  if (p.expected !== undefined) out.expected = p.expected;
  if (p.found !== undefined) out.found = p.found;
  if (p.path !== undefined) out.path = p.path;
  if (p.candidates !== undefined && p.candidates.length) out.candidates = p.candidates;
  return out;
}

/** A module to check: its split BTF and, when it has none of its own, the raw bytes as built. */
export interface ModuleInput {
  name: string;
  /** Raw split BTF bytes as built (modules without .BTF.base). */
  raw?: Uint8Array;
  /** A module that carries .BTF.base: its split parsed on that distilled base. */
  distilled?: { split: Btf; base: Btf };
}

/**
 * The own STRUCT/UNION/ENUM types of a (distilled base) BTF, from one core
 * call: ids, kind numbers, sizes and name keys side by side. A name key is
 * the same for every module of one core instance; `sizeNames` holds the
 * decoded names.
 */
interface SizeRecords { ids: Uint32Array; kinds: Uint32Array; sizes: Uint32Array; nameKeys: Uint32Array }

const RECORD_WORDS = 4;
const utf8 = new TextDecoder();
/** Name key -> name, for the core instance of generation `sizeNamesGen` (a reset core starts over). */
let sizeNames = new Map<number, string>();
let sizeNamesGen = -1;

/** "KIND name" per kind and name key, built once: the size map's keys are then the same string objects (hashed once). */
let sizeKeys = new Map<number, string>();

function sizeKey(kind: number, nameKey: number): string {
  const k = nameKey * 32 + kind;
  let s = sizeKeys.get(k);
  if (s === undefined) sizeKeys.set(k, (s = `${KIND_NAMES[kind]} ${sizeNames.get(nameKey)}`));
  return s;
}

function sizeRecords(btf: Btf): SizeRecords {
  return guard((c) => {
    if (sizeNamesGen !== currentGeneration()) { sizeNames = new Map(); sizeKeys = new Map(); sizeNamesGen = currentGeneration(); }
    const n = c.checkSizeRecords(btf.handle);
    if (n < 0) throw lastError(c, btf.file);
    const raw = takeResult(c);
    const w = new Uint32Array(raw.buffer, raw.byteOffset, n * RECORD_WORDS + 1);
    const ids = new Uint32Array(n), kinds = new Uint32Array(n), sizes = new Uint32Array(n), nameKeys = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      ids[i] = w[i * RECORD_WORDS];
      kinds[i] = w[i * RECORD_WORDS + 1];
      sizes[i] = w[i * RECORD_WORDS + 2];
      nameKeys[i] = w[i * RECORD_WORDS + 3];
    }
    // Names met for the first time: NUL-ended, keyed by their offset in the core's table.
    let key = w[n * RECORD_WORDS];
    const fresh = raw.subarray((n * RECORD_WORDS + 1) * 4);
    for (let at = 0; at < fresh.length; ) {
      let end = at;
      while (fresh[end] !== 0) end++;
      sizeNames.set(key, utf8.decode(fresh.subarray(at, end)));
      key += end + 1 - at;
      at = end + 1;
    }
    return { ids, kinds, sizes, nameKeys };
  });
}

/**
 * A module x kernel verdict for plain split BTF, from one core call that runs
 * the kernel's load-time checks and then libbpf's parse on the module bytes
 * already copied in at `ptr`.
 */
function plainLoad(ptr: number, len: number, kernel: Btf): PlainVerdict {
  return guard((c) => {
    kernel.core();
    const v = c.plainLoadVerdict(ptr, len, kernel.handle);
    if (v < 0) throw lastError(c);
    if (v === 0) return { verdict: "dropped", detail: lastErrorLine(c) };
    let detail = "the kernel's load-time checks pass, but the ids and string offsets were computed for another vmlinux";
    if (v === 2) detail += `; libbpf would refuse it (${lastErrorLine(c)})`;
    return { verdict: "wrong", detail };
  });
}

/**
 * One module's share of the cross-module size comparison, in a form that
 * crosses threads: "KIND name" keys and the sizes, record by record.
 */
export interface ModuleSizes { keys: string[]; sizes: ArrayLike<number> }

/**
 * @internal The report in the making: results in module order and the size
 * records of every module. Checker feeds it in-process; `check --jobs N`
 * feeds it with what the worker threads return, in module order, so the
 * report is the same either way.
 */
export class ReportBuilder {
  /** "KIND name" -> size -> modules that recorded it. */
  private sizesSeen = new Map<string, Map<number, string[]>>();
  private report: CheckReport = { results: [], disagreements: [], notes: [] };

  /** A checked module: its results (one per kernel) and its size records. */
  add(module: string, results: CheckResult[], sizes: ModuleSizes): void {
    for (let i = 0; i < sizes.keys.length; i++) this.addSize(module, sizes.keys[i], sizes.sizes[i]);
    for (const r of results) this.report.results.push(r);
  }

  /** `module` has the type `key` ("KIND name") with this size. */
  private addSize(module: string, key: string, size: number): void {
    let m = this.sizesSeen.get(key);
    if (!m) this.sizesSeen.set(key, (m = new Map()));
    const list = m.get(size);
    if (list) { if (list[list.length - 1] !== module) list.push(module); }
    else m.set(size, [module]);
  }

  /** The whole report, with the cross-module size disagreements. */
  finish(): CheckReport {
    const dis: Disagreement[] = [];
    for (const [key, m] of this.sizesSeen) {
      if (m.size < 2) continue;
      const sp = key.indexOf(" ");
      const sizes: Record<string, string[]> = {};
      for (const [size, mods] of [...m].sort((a, b) => a[0] - b[0])) sizes[String(size)] = mods;
      dis.push({ kind: key.slice(0, sp), type: key.slice(sp + 1), sizes });
    }
    dis.sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
    this.report.disagreements = dis;
    return this.report;
  }
}

export class Checker {
  private out = new ReportBuilder();
  /** Per kernel (same order as `kernels`): is it the build-time kernel itself? Compared once, not per module. */
  private exact: boolean[];

  constructor(private kernels: KernelInput[], private opts: CheckOptions = {}) {
    if (kernels.length === 0) throw new BtfError("USAGE", "check needs at least one --kernel");
    const built = opts.builtAgainst;
    this.exact = kernels.map((k) => !!built && (k.btf === built.btf || sameBytes(k.raw, built.raw)));
  }

  /** Check one module against every kernel; results are also kept for finish(). */
  checkModule(m: ModuleInput): CheckResult[] {
    const r = this.checkOne(m);
    this.out.add(m.name, r.results, r.sizes);
    return r.results;
  }

  /** @internal checkModule without keeping anything (a worker thread's part of `check --jobs N`). */
  checkOne(m: ModuleInput): { results: CheckResult[]; sizes: ModuleSizes } {
    const built = this.opts.builtAgainst;
    let split: Btf;
    let dbase: Btf;
    let original: Btf | undefined;
    let owned: Btf[] = [];
    if (m.distilled) {
      split = m.distilled.split;
      dbase = m.distilled.base;
    } else {
      if (!m.raw) throw new BtfError("USAGE", `${m.name}: nothing to check`);
      if (!built) throw new BtfError("USAGE", `${m.name} has no .BTF.base: give --built-against VMLINUX (the kernel it was built for)`);
      original = Btf.parse(m.raw, { base: built.btf, file: m.name });
      owned.push(original);
      const d = distillParts(original);
      split = d.split;
      dbase = d.base;
      owned.push(d.split, d.base);
    }
    // The module's bytes go into the core once for all its plain verdicts.
    const raw = m.raw && built ? m.raw : undefined;
    let rawPtr = 0;
    try {
      const recs = sizeRecords(dbase);
      const embedded = this.opts.strict ? new Set(embeddedBaseTypes(split)) : undefined;
      if (raw && this.exact.some((e) => !e)) rawPtr = guard((c) => copyIn(raw, c));
      const out: CheckResult[] = [];
      for (let i = 0; i < this.kernels.length; i++) {
        const k = this.kernels[i];
        const problems = relocationProblems(split, k.btf).map(toProblem);
        if (this.opts.strict && built && original) problems.push(...this.strictProblems(recs, built.btf, k.btf, embedded!, problems));
        const r: CheckResult = { module: m.name, kernel: k.name, ok: !problems.some((p) => p.severity === "error"), problems };
        if (raw) r.plain = this.exact[i] ? { verdict: "exact", detail: "the kernel it was built against" } : plainLoad(rawPtr, raw.length, k.btf);
        out.push(r);
      }
      const keys: string[] = new Array(recs.ids.length);
      for (let i = 0; i < keys.length; i++) keys[i] = sizeKey(recs.kinds[i], recs.nameKeys[i]);
      return { results: out, sizes: { keys, sizes: recs.sizes } };
    } finally {
      if (rawPtr) guard((c) => c.memFree(rawPtr));
      for (const b of owned) b.free();
    }
  }

  /** Layout drift between the build-time definition and the kernel's, for every named composite. */
  private strictProblems(recs: SizeRecords, built: Btf, kernel: Btf, embedded: Set<number>, relocation: CheckProblem[]): CheckProblem[] {
    const failed = new Set(relocation.map((p) => p.distilledId));
    const out: CheckProblem[] = [];
    for (let i = 0; i < recs.ids.length; i++) {
      const d = recs.ids[i];
      const kind = KIND_NAMES[recs.kinds[i]] as KindName;
      if ((kind !== "STRUCT" && kind !== "UNION") || failed.has(d)) continue;
      const name = sizeNames.get(recs.nameKeys[i])!;
      const size = recs.sizes[i];
      const orig = pickBySize(built, name, kind, size);
      const target = pickBySize(kernel, name, kind, size) ?? kernel.find(name, kind)[0];
      if (orig === undefined || target === undefined) continue;
      const diffs = layoutDiff(built, orig, kernel, target, name);
      const severity: Severity = embedded.has(d) ? "error" : "warning";
      for (const x of diffs) {
        out.push({ type: name, kind, distilledId: d, reason: "layout", expected: `${x.what}: ${x.expected}`, found: x.found, path: x.path, severity });
      }
    }
    return out;
  }

  /** The whole report, with the cross-module size disagreements. */
  finish(): CheckReport {
    return this.out.finish();
  }
}

/** The id of a type with this name and kind, preferring the given size. */
function pickBySize(btf: Btf, name: string, kind: KindName, size: number): number | undefined {
  const ids = btf.find(name, kind);
  if (ids.length <= 1) return ids[0];
  return ids.find((id) => btf.type(id).size === size) ?? ids[0];
}
