// Messages between the explorer page (app.ts) and its worker (worker.ts).
// Every request carries a number; the worker answers it once (ok or error)
// and may send progress for it before. Payloads are plain data.

export type OpenMode = "auto" | "base" | "split";

export type Request =
  | { op: "caps" }
  | { op: "open"; file: Blob; name: string; mode: OpenMode; baseDoc?: number }
  | { op: "search"; doc: number; q: string; kind: number; scope: "own" | "all"; limit: number }
  | { op: "type"; doc: number; id: number; refLimit: number }
  | { op: "close"; doc: number }
  | { op: "check"; doc: number; kernels: number[] }
  | { op: "download"; doc: number; what: string }
  | { op: "core"; doc: number; kernels: number[] }
  /** Every keyed type added, removed or changed from doc `a` to doc `b` (ChangesReply). */
  | { op: "changes"; a: number; b: number }
  /** Type `id` of `doc` against the type of its kind and name in `other`, the old side when `otherIsOld` (CompareReply). */
  | { op: "compare"; doc: number; id: number; other: number; otherIsOld: boolean };

export type { ChangesReply, CompareReply, CompareSide, ChangeItem, KindCount } from "./compare.js";

export interface Envelope { req: number; body: Request }

export interface Caps {
  /** Operations in the registry (src/web/ops.ts). */
  ops: string[];
  /** Btf#dumpC exists (the C dump landed). */
  dumpC: boolean;
  /** Kind names by number (KIND_NAMES). */
  kinds: string[];
  version: string;
}

export interface DocInfo {
  doc: number;
  name: string;
  /** A kernel (base BTF), a module (split on `baseDoc`), or a BPF object (.bpf.o: its own .BTF, and CO-RE relocations). */
  role: "kernel" | "module" | "object";
  /** For a BPF object: its CO-RE relocation records. */
  relocations?: number;
  baseDoc?: number;
  baseName?: string;
  bytes: number;
  layers: string[];
  container: string;
  startId: number;
  typeCount: number;
  strLen: number;
  header: { hdrLen: number; typeLen: number; strLen: number; flags: number; endian: string };
  pointerSize: number | null;
  kinds: [string, number][];
  /** ELF sections relevant to BTF, for a file read as ELF (e.g. .BTF, .BTF.base, .BTF_ids). */
  sections: string[];
  /** Why "Download distilled .ko" is unavailable for this document; null when it is available. */
  distillKo: string | null;
  ms: { read: number; parse: number; names: number; refs: number };
}

export interface Hit { id: number; kind: number; name: string; base?: boolean; via?: string }
export interface SearchReply { total: number; hits: Hit[]; ms: number }

export interface MemberRow {
  name: string;
  type: number;
  typeLabel: string;
  bitOffset: number;
  /** Bitfield width, 0 for a plain member. */
  bitSize: number;
  /** Size of the member's type in bytes (-1 when it cannot be resolved). */
  byteSize: number;
}

/** A run of bits in a struct: a member, or a hole between members, or tail padding. */
export interface Segment { kind: "member" | "hole" | "pad"; startBit: number; bits: number; member?: number }

export interface TypeDetails {
  doc: number;
  id: number;
  kind: number;
  kindName: string;
  name: string;
  label: string;
  /** For a module doc, whether the type is the kernel's (id below the module's first id). */
  inBase: boolean;
  size: number | null;
  resolvedSize: number;
  raw: string;
  members: MemberRow[];
  segments: Segment[];
  values: { name: string; value: string }[];
  params: { name: string; type: number; typeLabel: string }[];
  target: { id: number; label: string } | null;
  /** Named users (through pointers, qualifiers, arrays, prototypes); `direct` referrers of any kind. */
  refs: { total: number; direct: number; items: Hit[] };
  /** C definition with dependencies; null with a reason when unavailable. */
  c: string | null;
  cNote: string;
}

/** A file produced in the worker for the page to save. */
export interface Download {
  name: string;
  bytes: Uint8Array;
  /** Shown in the page, e.g. the dropped module signature. */
  warnings: string[];
}

/** One CO-RE record as the page shows it (the report's fields it uses). */
export interface CoreRow {
  sec: string; relo: number; insnOff: number; kind: string; localId: number; localKind: string; localName: string;
  access: string; localAccess: string; targAccess: string; status: "ok" | "poison" | "error"; patch: string | null;
  origVal: string | null; newVal: string | null; targBtf: string | null; targId: number | null; cands: number | null; reason: string | null;
}

/**
 * The "core" reply: the JSON report of `btfkit core --json` (one result per
 * kernel), plus, per result, which open document holds each target BTF
 * ("vmlinux" -> the kernel, "<module>" -> that module's document).
 */
export interface CoreReply {
  results: Array<{
    object: string; kernel: string; ok: boolean; clean: boolean; modulesSearched: boolean;
    sections: Array<{ name: string; records: number; poisoned: number; errors: number }>;
    records: CoreRow[];
    targetDocs: Record<string, number>;
  }>;
}

export interface CheckReply {
  report: unknown;
}

export type Reply =
  | { req: number; ok: true; body: unknown }
  | { req: number; ok: false; error: { code: string; message: string } }
  | { req: number; progress: { phase: string; done: number; total: number } };
