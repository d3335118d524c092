// `diff(old, new)`: what changed between two BTFs, type by type (issue 15).
// The core computes everything (assembly/diff/): keyed types, their own
// shapes, the comparison as sets per key, and the details of changed types,
// as compact records; this file only decodes them and sorts the result.

import { Btf, KIND_NAMES, KindName, kindNumber } from "./btf.js";
import { BtfError } from "./errors.js";
import { guard, copyInCString, lastError, takeResult, CoreExports } from "./core.js";

export interface DiffKey {
  kind: KindName;
  name: string;
  /** API only (not in the CLI's JSON): for an added key its first type in NEW, for a removed one in OLD. */
  id?: number;
}

/** One side of a member: offsets in bits, size in bytes (-1 when it cannot be resolved). */
export interface MemberSide { offset: number; bitfieldSize?: number; size: number; type: string }
export type MemberChangeKind = "added" | "removed" | "moved" | "resized" | "retyped";
export interface MemberChange {
  name: string;
  change: MemberChangeKind;
  /** Also true for a member both moved and resized/retyped. */
  moved?: boolean;
  old?: MemberSide;
  new?: MemberSide;
}
/** A member of the layout view: every member of the new type, then the removed ones. */
export interface LayoutRow extends Omit<MemberChange, "change"> { change: MemberChangeKind | "same" }

export interface EnumValueChange { name: string; change: "added" | "removed" | "renumbered"; old?: bigint; new?: bigint }
export interface ParamChange { name: string; change: "added" | "removed" | "moved" | "retyped" | "same"; old?: { index: number; type: string }; new?: { index: number; type: string } }

export interface ChangedType extends DiffKey {
  /** The type compared on each side (the first whose own shape the other side lacks). */
  oldId: number;
  newId: number;
  /** How many types share the key on each side (more than one: compared as sets). */
  oldCount: number;
  newCount: number;
  size?: [number, number];
  /** STRUCT/UNION: the members that changed. */
  members?: MemberChange[];
  /** STRUCT/UNION: the whole layout, unchanged members included (for views). */
  layout?: LayoutRow[];
  /** ENUM/ENUM64: enumerators added, removed or renumbered; signedness. */
  values?: EnumValueChange[];
  signed?: [boolean, boolean];
  /** FUNC: linkage, return type, parameters (changed ones in `params`). */
  linkage?: [string, string];
  return?: [string, string];
  params?: ParamChange[];
  /** TYPEDEF: the target's label. */
  type?: [string, string];
  /** FWD: struct or union. */
  fwd?: [string, string];
}

export interface DiffResult {
  added: DiffKey[];
  removed: DiffKey[];
  changed: ChangedType[];
  /** Keyed (kind, name) pairs on each side, and how many are the same. */
  keys: { old: number; new: number; unchanged: number };
}

export interface DiffOptions {
  /**
   * Only these types: "NAME" (any keyed kind) or "KIND NAME" ("struct sock",
   * "enum bpf_cmd", "func tcp_sendmsg", "typedef u32", "fwd foo").
   */
  types?: string[];
  /** Describe changed types (members, values, params); default true. */
  details?: boolean;
}

const LINKAGE = ["static", "global", "extern"];
const KIND_WORDS: Record<string, KindName> = {
  struct: "STRUCT", union: "UNION", enum: "ENUM", enum64: "ENUM64", typedef: "TYPEDEF", func: "FUNC", fwd: "FWD",
};
const KEYED = new Set(["STRUCT", "UNION", "ENUM", "ENUM64", "TYPEDEF", "FUNC", "FWD"]);

/** "struct sock" -> { kind: 4, name: "sock" }; "sock" -> kind 0 (any). */
export function parseTypeSpec(spec: string): { kind: number; name: string } {
  const m = /^\s*(\S+)\s+(\S+)\s*$/.exec(spec);
  if (m) {
    const word = m[1].toLowerCase();
    const kind = KIND_WORDS[word] ?? (KEYED.has(m[1].toUpperCase()) ? (m[1].toUpperCase() as KindName) : undefined);
    if (!kind) throw new BtfError("USAGE", `--type ${spec}: the kind must be struct, union, enum, enum64, typedef, func or fwd`);
    return { kind: kindNumber(kind), name: m[2] };
  }
  const name = spec.trim();
  if (!name) throw new BtfError("USAGE", "--type needs a name");
  return { kind: 0, name };
}

/** What changed between `oldBtf` and `newBtf` (each a kernel, or a module's own types on its kernel). */
export function diff(oldBtf: Btf, newBtf: Btf, opts: DiffOptions = {}): DiffResult {
  const specs = (opts.types ?? []).map(parseTypeSpec);
  const details = opts.details ?? true;
  return guard((c) => {
    oldBtf.core();
    newBtf.core();
    c.diffBegin(specs.length === 1 ? 0 : Math.max(oldBtf.typeCount, newBtf.typeCount));
    try {
      // With --type, the core computes only those types' shapes.
      const a = addSides(c, oldBtf, specs);
      const b = addSides(c, newBtf, specs);
      return compareSides(c, a, b, details);
    } finally {
      endSession(c);
    }
  });
}

export interface HistoryStep { from: number; to: number; result: DiffResult }
export interface DiffHistory {
  /** For each BTF, the index of the first BTF with the same definition of the type(s) (its layout group). */
  groups: number[];
  /** Each consecutive pair that differs, with what changed. */
  steps: HistoryStep[];
}

/** One type (e.g. "struct sock") across several BTFs, in order. */
export function diffHistory(btfs: Btf[], type: string): DiffHistory {
  const spec = parseTypeSpec(type);
  return guard((c) => {
    for (const b of btfs) b.core();
    c.diffBegin(0);
    try {
      const sides = btfs.map((b) => addSide(c, b, spec));
      const groups: number[] = [];
      const steps: HistoryStep[] = [];
      for (let i = 0; i < sides.length; i++) {
        let g = i;
        for (let j = 0; j < i; j++) {
          if (groups[j] !== j) continue;
          if (c.diffCompare(sides[j], sides[i], 0) < 0) throw lastError(c);
          const same = new DataView(takeResult(c).buffer).getUint32(0, true) === 0; // no record
          if (same) { g = j; break; }
        }
        groups.push(g);
        if (i > 0) {
          const r = compareSides(c, sides[i - 1], sides[i], true);
          if (r.added.length || r.removed.length || r.changed.length) steps.push({ from: i - 1, to: i, result: r });
        }
      }
      return { groups, steps };
    } finally {
      endSession(c);
    }
  });
}

/** Drop the core's session; after a trap the instance is being replaced and the first error is the one to report. */
function endSession(c: CoreExports): void {
  try { c.diffEnd(); } catch { /* the trap that got here is what guard() reports */ }
}

/** One side for `btf`: all its keyed types, or those the specs name (each type once). */
function addSides(c: CoreExports, btf: Btf, specs: { kind: number; name: string }[]): number {
  if (!specs.length) return addSide(c, btf);
  // "sock" covers "struct sock": keep the widest spec per name, each once.
  const wide = new Set(specs.filter((s) => s.kind === 0).map((s) => s.name));
  const seen = new Set<string>();
  let side = -1;
  for (const s of specs) {
    if (s.kind !== 0 && wide.has(s.name)) continue;
    const key = `${s.kind} ${s.name}`;
    if (seen.has(key)) continue;
    seen.add(key);
    side = addSide(c, btf, s, side);
  }
  return side;
}

function addSide(c: CoreExports, btf: Btf, spec?: { kind: number; name: string }, into = -1): number {
  const p = spec ? copyInCString(spec.name, c) : 0;
  try {
    const s = c.diffAdd(btf.handle, p, spec?.kind ?? 0, into);
    if (s < 0) throw lastError(c);
    return s;
  } finally {
    if (p) c.memFree(p);
  }
}

// Record decoding (layout in assembly/diff/compare.ts).
const D = { SAME: 0, ADDED: 1, REMOVED: 2, MOVED: 3, RESIZED: 4, RETYPED: 5, RENUMBERED: 6, RETURN: 7, TARGET: 8, LINKAGE: 9, SIZE: 10, SIGN: 11, FWD: 12 };
const NONE = 0xffffffff;
const MEMBER_CHANGE: Record<number, LayoutRow["change"]> = { 0: "same", 1: "added", 2: "removed", 3: "moved", 4: "resized", 5: "retyped" };
const utf8 = new TextDecoder("utf-8");

class Reader {
  pos = 0;
  dv: DataView;
  constructor(readonly bytes: Uint8Array) { this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength); }
  u32(): number { const v = this.dv.getUint32(this.pos, true); this.pos += 4; return v; }
  str(): string {
    const n = this.u32();
    const s = n ? utf8.decode(this.bytes.subarray(this.pos, this.pos + n)) : "";
    this.pos += (n + 3) & ~3;
    return s;
  }
}


function compareSides(c: CoreExports, a: number, b: number, details: boolean): DiffResult {
  if (c.diffCompare(a, b, details ? 1 : 0) < 0) throw lastError(c);
  const r = new Reader(takeResult(c));
  const n = r.u32();
  const keys = { old: r.u32(), new: r.u32(), unchanged: r.u32() };
  const namesAt = r.u32();
  const names = utf8.decode(r.bytes.subarray(namesAt)).split("\0");
  const out: DiffResult = { added: [], removed: [], changed: [], keys };
  for (let i = 0; i < n; i++) {
    const status = r.u32();
    const kind = (KIND_NAMES[r.u32()] ?? "UNKNOWN") as KindName;
    const oldId = r.u32(), newId = r.u32(), oldCount = r.u32(), newCount = r.u32();
    const nd = r.u32();
    const name = names[i];
    if (status === 1) { out.added.push({ kind, name, id: newId }); continue; }
    if (status === 2) { out.removed.push({ kind, name, id: oldId }); continue; }
    const ch: ChangedType = { kind, name, oldId, newId, oldCount, newCount };
    for (let d = 0; d < nd; d++) readDetail(r, ch);
    if (ch.layout) ch.members = ch.layout.filter((m) => m.change !== "same") as MemberChange[];
    if (ch.params) ch.params = ch.params.filter((p) => p.change !== "same");
    out.changed.push(ch);
  }
  return out; // the core sorted the records by kind, then name
}

function readDetail(r: Reader, ch: ChangedType): void {
  const code = r.u32();
  const w = [r.u32(), r.u32(), r.u32(), r.u32(), r.u32(), r.u32(), r.u32()];
  const name = r.str(), oldLabel = r.str(), newLabel = r.str();
  const isLayout = ch.kind === "STRUCT" || ch.kind === "UNION";
  const isEnum = ch.kind === "ENUM" || ch.kind === "ENUM64";
  switch (code) {
    case D.SIZE: ch.size = [w[0], w[3]]; return;
    case D.SIGN: ch.signed = [w[0] === 1, w[3] === 1]; return;
    case D.LINKAGE: ch.linkage = [LINKAGE[w[0]] ?? String(w[0]), LINKAGE[w[3]] ?? String(w[3])]; return;
    case D.RETURN: ch.return = [oldLabel, newLabel]; return;
    case D.TARGET: ch.type = [oldLabel, newLabel]; return;
    case D.FWD: ch.fwd = [w[0] ? "union" : "struct", w[3] ? "union" : "struct"]; return;
  }
  if (isLayout) {
    const side = (off: number, bits: number, size: number, type: string): MemberSide =>
      ({ offset: off, ...(bits ? { bitfieldSize: bits } : {}), size: size === NONE ? -1 : size, type });
    const row: LayoutRow = { name, change: MEMBER_CHANGE[code] ?? "same" };
    if ((w[6] & 1) && code !== D.MOVED) row.moved = true;
    if (w[0] !== NONE) row.old = side(w[0], w[1], w[2], oldLabel);
    if (w[3] !== NONE) row.new = side(w[3], w[4], w[5], newLabel);
    (ch.layout ??= []).push(row);
  } else if (isEnum) {
    const val = (lo: number, hi: number, signed: number) => {
      const v = (BigInt(hi) << 32n) | BigInt(lo);
      return signed ? BigInt.asIntN(64, v) : v;
    };
    const change = code === D.ADDED ? "added" : code === D.REMOVED ? "removed" : "renumbered";
    const e: EnumValueChange = { name, change };
    if (code !== D.ADDED) e.old = val(w[0], w[1], w[2]);
    if (code !== D.REMOVED) e.new = val(w[3], w[4], w[5]);
    (ch.values ??= []).push(e);
  } else if (ch.kind === "FUNC") {
    const change = (MEMBER_CHANGE[code] ?? "same") as ParamChange["change"];
    const p: ParamChange = { name, change };
    if (w[0] !== NONE) p.old = { index: w[0], type: oldLabel };
    if (w[3] !== NONE) p.new = { index: w[3], type: newLabel };
    (ch.params ??= []).push(p);
  }
}

/** JSON.stringify replacer for diff results: enum values (bigint) as numbers when exact, else strings. */
export function diffJsonReplacer(_key: string, v: unknown): unknown {
  if (typeof v === "bigint") return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  return v;
}
