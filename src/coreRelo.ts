// CO-RE: will this BPF object load on that kernel? libbpf's relocation
// resolver (relo_core.c and libbpf.c's candidate search) runs in the core
// (assembly/core/); this file opens objects, hands the core the kernel's
// vmlinux and module BTFs, and decodes the per-record results into typed
// records with the same fields as the golden TSV (see README "btfkit core").

import { guard, copyIn, lastError, takeResult } from "./core.js";
import { Btf } from "./btf.js";
import { BtfError } from "./errors.js";
import { unwrapSync } from "./input.js";
import { KIND_NAMES } from "./generated/kinds.js";

export const CORE_KINDS = [
  "byte_off", "byte_sz", "field_exists", "signed", "lshift_u64", "rshift_u64", "local_type_id",
  "target_type_id", "type_exists", "type_size", "enumval_exists", "enumval_value", "type_matches",
] as const;

/** libbpf's btf_kind_str: the kind's name in lower case, "void" for kind 0. */
function localKindName(kind: number): string {
  if (kind === 0) return "void";
  return KIND_NAMES[kind]?.toLowerCase() ?? "unknown";
}

export const CORE_REASONS = [
  "-", "field_offset_ambiguity", "decision_ambiguity", "cand_match_error", "bitfield_too_big",
  "bad_local_spec", "anon_type", "cand_search_failed", "array_access_kind", "unknown_kind",
  "unexpected_kind", "insn_value_mismatch", "insn_off_too_big", "insn_mem_size_mismatch",
  "insn_bad_new_mem_size", "insn_bad_ldimm64", "insn_unrecognized", "other",
] as const;

export type CoreStatus = "ok" | "poison" | "error";
export type CorePatch = "ok" | "poison" | "error";

/** One CO-RE relocation record and libbpf's decision for it (the TSV's 24 columns, typed). */
export interface CoreRecord {
  obj: string;
  sec: string;
  relo: number;
  insnOff: number;
  kind: string;
  localId: number;
  localKind: string;
  localName: string;
  access: string;
  status: CoreStatus;
  /** Decimal u64 values (null for error). */
  origVal: bigint | null;
  newVal: bigint | null;
  /** "vmlinux" or the module's name; null when nothing matched, for local_type_id and errors. */
  targBtf: string | null;
  targId: number | null;
  targSpec: number[] | null;
  targBitOff: number | null;
  validate: boolean | null;
  memszFail: boolean | null;
  cands: number | null;
  matched: number | null;
  patch: CorePatch | null;
  /** The patched instruction(s) as stored bytes, hex. */
  insn: string | null;
  errno: number | null;
  reason: string | null;
  /** The local access in C terms, e.g. ".i_atime" or "::BPF_FUNC_x = 173". */
  localAccess: string;
  /** The matched target access in C terms (empty when nothing matched). */
  targAccess: string;
  /** Byte offset of the record in the object file. */
  recordOffset: number;
}

export interface CoreSectionSummary {
  name: string;
  records: number;
  /** Instructions patched to libbpf's poison call (the verifier fails only if they are reachable). */
  poisoned: number;
  /** Records libbpf refuses (the object does not load). */
  errors: number;
}

export interface CoreReport {
  object: string;
  kernel: string;
  /** Every record resolved (poisoned records included). */
  ok: boolean;
  /** No error and no poison. */
  clean: boolean;
  sections: CoreSectionSummary[];
  records: CoreRecord[];
  /** Whether the module BTFs were searched. */
  modulesSearched: boolean;
}

export interface CoreModule { name: string; btf: Btf }

export interface ResolveCoreOptions {
  /** Module BTFs (split on the kernel's vmlinux), in search order; a function is called only if some type is missing from vmlinux. */
  modules?: CoreModule[] | (() => CoreModule[]);
  /** Object name for the records (default "object"). */
  name?: string;
  /** Kernel name for the report (default "kernel"). */
  kernelName?: string;
}

/** A BPF object opened in the core (its .BTF, .BTF.ext records and instructions). */
export class BpfObject {
  private constructor(readonly handle: number, readonly name: string) {}

  /** Read a BPF object (ELF, possibly compressed). Throws BtfError (BAD_ELF, NO_BTF, BAD_BTF_EXT, ...) with the offset. */
  static open(bytes: Uint8Array, name = "object"): BpfObject {
    let u;
    try {
      u = unwrapSync(bytes);
    } catch (e) {
      throw e instanceof BtfError ? e.withFile(name) : e;
    }
    if (u.kind !== "elf") throw new BtfError("BAD_ELF", "not an ELF file: a BPF object is a relocatable ELF", { file: name });
    const data = u.bytes;
    return guard((c) => {
      const p = copyIn(data, c);
      const h = c.coreObjectOpen(p, data.length);
      if (h < 0) {
        c.memFree(p);
        throw lastError(c, name);
      }
      return new BpfObject(h, name);
    });
  }

  get recordCount(): number { return guard((c) => c.coreObjectRecords(this.handle)); }

  free(): void { guard((c) => c.coreObjectFree(this.handle)); }
}

/** Would resolving this object search module BTFs (some local type has no candidate in vmlinux)? */
export function coreNeedsModules(obj: BpfObject, vmlinux: Btf): boolean {
  return guard((c) => {
    vmlinux.core();
    const r = c.coreNeedsModules(obj.handle, vmlinux.handle);
    if (r < 0) throw lastError(c);
    return r === 1;
  });
}

/**
 * Resolve every CO-RE relocation of `object` against `kernel` (its vmlinux
 * BTF) and, where vmlinux has no candidate, the module BTFs, as libbpf does.
 */
export function resolveCore(object: Uint8Array | BpfObject, kernel: Btf, opts: ResolveCoreOptions = {}): CoreReport {
  const own = !(object instanceof BpfObject);
  const obj = object instanceof BpfObject ? object : BpfObject.open(object, opts.name ?? "object");
  try {
    const name = opts.name ?? obj.name;
    let mods: CoreModule[] = [];
    let searched = false;
    if (opts.modules && coreNeedsModules(obj, kernel)) {
      mods = typeof opts.modules === "function" ? opts.modules() : opts.modules;
      searched = true;
    }
    const bytes = guard((c) => {
      kernel.core();
      const arr = new Uint32Array(mods.map((m) => m.btf.handle));
      const p = copyIn(new Uint8Array(arr.buffer), c);
      try {
        if (!c.coreResolve(obj.handle, kernel.handle, p, mods.length)) throw lastError(c, name);
      } finally {
        c.memFree(p);
      }
      return takeResult(c);
    });
    return decode(bytes, name, opts.kernelName ?? "kernel", mods, searched);
  } finally {
    if (own) obj.free();
  }
}

/**
 * The object's golden TSV (header line included), rendered by the core:
 * what `btfkit core --format tsv` writes, without building records in JS.
 */
export function resolveCoreTsv(object: BpfObject, kernel: Btf, opts: ResolveCoreOptions = {}): Uint8Array {
  let mods: CoreModule[] = [];
  if (opts.modules && coreNeedsModules(object, kernel)) mods = typeof opts.modules === "function" ? opts.modules() : opts.modules;
  return guard((c) => {
    kernel.core();
    const arr = new Uint32Array(mods.map((m) => m.btf.handle));
    const p = copyIn(new Uint8Array(arr.buffer), c);
    const enc = new TextEncoder();
    const np = copyIn(enc.encode(mods.map((m) => m.name + "\0").join("")), c);
    const op = copyIn(enc.encode((opts.name ?? object.name) + "\0"), c);
    try {
      if (!c.coreResolveTsv(object.handle, kernel.handle, p, mods.length, op, np)) throw lastError(c, object.name);
    } finally {
      c.memFree(p);
      c.memFree(np);
      c.memFree(op);
    }
    return takeResult(c);
  });
}

const dec = new TextDecoder();

function decode(bytes: Uint8Array, obj: string, kernel: string, mods: CoreModule[], searched: boolean): CoreReport {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = 0;
  const u32 = () => { const v = dv.getUint32(p, true); p += 4; return v; };
  const u64 = () => { const v = dv.getBigUint64(p, true); p += 8; return v; };
  const cstr = () => {
    let e = p;
    while (bytes[e] !== 0) e++;
    const s = dec.decode(bytes.subarray(p, e));
    p = e + 1;
    return s;
  };
  const pad = () => { p = (p + 3) & ~3; };
  const nSec = u32();
  const nRec = u32();
  const secs: CoreSectionSummary[] = [];
  for (let i = 0; i < nSec; i++) {
    u32(); u32();
    const count = u32();
    const name = cstr();
    pad();
    secs.push({ name, records: count, poisoned: 0, errors: 0 });
  }
  const records: CoreRecord[] = [];
  for (let r = 0; r < nRec; r++) {
    const secIdx = u32(), relo = u32(), insnOff = u32(), kind = u32(), localId = u32(), localKind = u32();
    const status = u32(), flags = u32();
    const orig = u64(), nv = u64();
    const sel = u32(), targId = u32(), bitOff = u32();
    const cands = dv.getInt32(p, true); p += 4;
    const matched = dv.getInt32(p, true); p += 4;
    const patch = u32(), insnLen = u32();
    const insnBytes = bytes.slice(p, p + insnLen); p += 16;
    const errno = u32(), reason = u32(), n = u32(), recOff = u32();
    const spec: number[] = [];
    for (let i = 0; i < n; i++) spec.push(u32());
    const localName = cstr(), access = cstr(), localAccess = cstr(), targAccess = cstr();
    pad();
    const isErr = status === 2;
    const hasTarget = (flags & 4) !== 0;
    const fieldKind = kind <= 5;
    const enumKind = kind === 10 || kind === 11;
    const sec = secs[secIdx];
    if (isErr) sec.errors++;
    if (patch === 2) sec.poisoned++;
    records.push({
      obj,
      sec: sec.name,
      relo,
      insnOff,
      kind: CORE_KINDS[kind] ?? "unknown",
      localId,
      localKind: localKind === 0xffffffff ? "-" : localKindName(localKind),
      localName: localKind === 0xffffffff ? "-" : localName || "<anon>",
      access,
      status: isErr ? "error" : status === 1 ? "poison" : "ok",
      origVal: isErr ? null : orig,
      newVal: isErr ? null : nv,
      targBtf: hasTarget ? (sel === 0 ? "vmlinux" : mods[sel - 1].name) : null,
      targId: hasTarget ? targId : null,
      targSpec: hasTarget && (fieldKind || enumKind) ? spec : null,
      targBitOff: hasTarget && fieldKind ? bitOff : null,
      validate: isErr ? null : (flags & 1) !== 0,
      memszFail: isErr ? null : (flags & 2) !== 0,
      cands: cands < 0 ? null : cands,
      matched: isErr || matched < 0 ? null : matched,
      patch: isErr ? null : patch === 1 ? "ok" : patch === 2 ? "poison" : patch === 3 ? "error" : null,
      insn: patch === 1 || patch === 2 ? hex(insnBytes) : null,
      errno: errno ? errno : null,
      reason: reason ? CORE_REASONS[reason] ?? "other" : null,
      localAccess,
      targAccess,
      recordOffset: recOff,
    });
  }
  const ok = records.every((x) => x.status !== "error");
  const clean = ok && records.every((x) => x.patch !== "poison" && x.patch !== "error");
  return { object: obj, kernel, ok, clean, sections: secs, records, modulesSearched: searched };
}

function hex(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

export const CORE_TSV_HEADER = "#obj\tsec\trelo\tinsn_off\tkind\tlocal_id\tlocal_kind\tlocal_name\taccess\tstatus\torig_val\tnew_val\ttarg_btf\ttarg_id\ttarg_spec\ttarg_bit_off\tvalidate\tmemsz_fail\tcands\tmatched\tpatch\tinsn\terrno\treason";

const d = (v: unknown): string => (v === null || v === undefined ? "-" : typeof v === "boolean" ? (v ? "1" : "0") : String(v));

/** One record as its golden TSV line (without newline). */
export function coreTsvLine(x: CoreRecord): string {
  return [
    x.obj, x.sec, x.relo, x.insnOff, x.kind, x.localId, x.localKind, x.localName, x.access, x.status,
    d(x.origVal), d(x.newVal), d(x.targBtf), d(x.targId), x.targSpec ? x.targSpec.join(":") : "-", d(x.targBitOff),
    d(x.validate), d(x.memszFail), d(x.cands), d(x.matched), d(x.patch), d(x.insn), d(x.errno), d(x.reason),
  ].join("\t");
}

/** A report as the golden TSV file: header, then one line per record. */
export function coreTsv(r: CoreReport): string {
  let s = CORE_TSV_HEADER + "\n";
  for (const x of r.records) s += coreTsvLine(x) + "\n";
  return s;
}

/** A report as JSON-safe data (u64 values as decimal strings). */
export function coreJson(r: CoreReport): unknown {
  return {
    ...r,
    records: r.records.map((x) => ({ ...x, origVal: x.origVal === null ? null : x.origVal.toString(), newVal: x.newVal === null ? null : x.newVal.toString() })),
  };
}

export interface CoreKernel {
  name: string;
  vmlinux: Btf;
  modules?: CoreModule[] | (() => CoreModule[]);
}

export interface CoreMatrix {
  results: CoreReport[];
  /** Objects that load on every kernel (no resolver error). */
  ok: boolean;
}

/** Every object on every kernel: the object x kernel matrix. */
export function resolveCoreMatrix(objects: Array<{ name: string; bytes: Uint8Array } | BpfObject>, kernels: CoreKernel[]): CoreMatrix {
  const results: CoreReport[] = [];
  for (const o of objects) {
    const obj = o instanceof BpfObject ? o : BpfObject.open(o.bytes, o.name);
    try {
      for (const k of kernels) results.push(resolveCore(obj, k.vmlinux, { modules: k.modules, name: obj.name, kernelName: k.name }));
    } finally {
      if (!(o instanceof BpfObject)) obj.free();
    }
  }
  return { results, ok: results.every((r) => r.ok) };
}
