// Tailored BTF (bpftool's `gen min_core_btf`, module-aware): for each
// object, libbpf's resolver (coreRelo.ts, the core's assembly/core/) decides
// every CO-RE relocation against the kernel and its modules; the target
// spec of each record is handed to the core's marker (assembly/mincore.ts),
// which writes the types and members they touch as one standalone BTF.
// This file moves handles and records; the algorithms are in the core.

import { guard, lastError, takeResult, copyIn, copyInCString } from "./core.js";
import { Btf, kindNumber, KindName } from "./btf.js";
import { BtfError } from "./errors.js";
import { BpfObject, CoreModule, CoreRecord, CoreReport, resolveCore, coreNeedsModules } from "./coreRelo.js";

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

  constructor(vmlinux: Btf, modules: Btf[] = []) {
    this.handle = guard((c) => {
      vmlinux.core();
      const h = c.minCoreNew(vmlinux.handle);
      if (h < 0) throw lastError(c, vmlinux.file);
      return h;
    });
    for (const m of modules) this.addModule(m);
  }

  /** Add a module BTF split on the vmlinux; returns its target index (1, 2, ...). */
  addModule(m: Btf): number {
    return guard((c) => {
      const i = c.minCoreAddModule(this.handle, m.handle);
      if (i < 0) throw lastError(c, m.file);
      return i;
    });
  }

  /**
   * Keep what one relocation needs: its kind (name or libbpf number), the
   * target where the first matching candidate was found (0 vmlinux, then
   * modules in order), the candidate's root type id and the target access
   * spec (root 0: nothing matched, nothing kept).
   */
  record(kind: string | number, target: number, root: number, spec: readonly number[]): void {
    this.recordMany([{ kind, target, root, spec }]);
  }

  /** record() for many at once (one call into the core). */
  recordMany(recs: ReadonlyArray<{ kind: string | number; target: number; root: number; spec: readonly number[] }>): void {
    let n = 0;
    for (const r of recs) n += 4 + r.spec.length;
    const words = new Uint32Array(n);
    let p = 0;
    for (const r of recs) {
      const k = typeof r.kind === "number" ? r.kind : RELO_KINDS[r.kind];
      if (k === undefined) throw new BtfError("USAGE", `unknown relocation kind ${r.kind}`);
      words[p++] = k; words[p++] = r.target; words[p++] = r.root; words[p++] = r.spec.length;
      for (const x of r.spec) words[p++] = x;
    }
    guard((c) => {
      const ptr = copyIn(new Uint8Array(words.buffer), c);
      try {
        if (!c.minCoreRecordMany(this.handle, ptr, n)) throw lastError(c);
      } finally {
        c.memFree(ptr);
      }
    });
  }

  /**
   * A local root type some relocation looks up: when vmlinux has a candidate
   * for it, module types of that name are kept out of the candidates
   * (written nameless, or replaced by what they stand for). Returns whether
   * vmlinux had one.
   */
  guardName(name: string, kind: KindName | number): boolean {
    const k = kindNumber(kind);
    return guard((c) => {
      const p = copyInCString(name, c);
      try {
        return c.minCoreGuard(this.handle, p, k) === 1;
      } finally {
        c.memFree(p);
      }
    });
  }

  /** The tailored BTF, raw (24-byte header), and how many types it has. */
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

export type MinCoreInput = Uint8Array | BpfObject | { name: string; bytes: Uint8Array };

export interface MinCoreOptions {
  /** Module BTFs split on the kernel's vmlinux, in search order; a function is called only if some object needs them. */
  modules?: CoreModule[] | (() => CoreModule[]);
  /** Kernel name for messages. */
  kernelName?: string;
  /**
   * Resolve every object again against the output alone and compare each
   * record's status, orig_val and new_val (default true). A difference is a
   * MINCORE_DIVERGED error when module BTFs took part; on vmlinux alone it
   * is reported in `diverged` (bpftool's own output has the same property).
   */
  verify?: boolean;
}

export interface MinCoreResult {
  /** The tailored BTF: raw, 24-byte header, standalone. */
  btf: Uint8Array;
  /** Types in it. */
  types: number;
  /** CO-RE relocation records of all objects. */
  records: number;
  /** Records that found a target (local_type_id excluded). */
  resolved: number;
  /** Records whose instruction is poisoned. */
  poisoned: number;
  /** Records that resolve to nothing: poisoned, or an exists/size/match/id answer of 0. bpftool drops these silently. */
  unresolved: CoreRecord[];
  /** Whether some object needed the module BTFs. */
  modulesSearched: boolean;
  /** With verify: records the output resolves differently (vmlinux only; with modules this throws). */
  diverged: Array<{ record: CoreRecord; got: CoreRecord }>;
}

/** Thrown when a relocation is a resolver error: libbpf refuses the object, bpftool fails. */
export class MinCoreRefused extends BtfError {
  readonly records: CoreRecord[];
  constructor(message: string, records: CoreRecord[], file?: string) {
    super("CORE_REFUSED", message, { offset: records[0]?.recordOffset, file });
    this.records = records;
  }
}

/** "sec/relo #N (kind struct foo access 0:1 .bar)", a record as people find it. */
export function describeRecord(r: CoreRecord): string {
  const local = r.localName === "-" ? `[${r.localId}]` : `${r.localKind} ${r.localName}`;
  const path = r.localAccess ? ` ${r.localAccess}` : "";
  return `${r.obj} ${r.sec} relo #${r.relo} (insn ${r.insnOff / 8}): ${r.kind} ${local}${path} (access ${r.access})`;
}

function openAll(objects: MinCoreInput[]): { objs: BpfObject[]; owned: BpfObject[] } {
  const objs: BpfObject[] = [];
  const owned: BpfObject[] = [];
  try {
    objects.forEach((o, i) => {
      if (o instanceof BpfObject) { objs.push(o); return; }
      const b = o instanceof Uint8Array ? BpfObject.open(o, `object${i}`) : BpfObject.open(o.bytes, o.name);
      objs.push(b);
      owned.push(b);
    });
  } catch (e) {
    for (const b of owned) b.free();
    throw e;
  }
  return { objs, owned };
}

const sameAnswer = (a: CoreRecord, b: CoreRecord) =>
  a.status === b.status && a.origVal === b.origVal &&
  // target type ids are renumbered in the output: only "found or not" carries over.
  (a.kind === "target_type_id" ? (a.newVal === 0n) === (b.newVal === 0n) : a.newVal === b.newVal);

/**
 * The smallest BTF that gives every CO-RE relocation of `objects` the same
 * answer as `kernel` (with its `modules`): bpftool's `gen min_core_btf`, byte
 * for byte on a vmlinux alone, and with module types written in as vmlinux
 * types where libbpf would have found them in modules.
 */
export function minCore(objects: MinCoreInput[], kernel: Btf, opts: MinCoreOptions = {}): MinCoreResult {
  const { objs, owned } = openAll(objects);
  let session: MinCoreSession | undefined;
  try {
    // Modules are read only when some object has a type vmlinux lacks.
    let mods: CoreModule[] = [];
    if (opts.modules && objs.some((o) => coreNeedsModules(o, kernel))) {
      mods = typeof opts.modules === "function" ? opts.modules() : opts.modules;
    }
    const reports: CoreReport[] = objs.map((o) => resolveCore(o, kernel, { modules: mods, name: o.name, kernelName: opts.kernelName }));
    const errors = reports.flatMap((r) => r.records.filter((x) => x.status === "error"));
    if (errors.length > 0) {
      const first = errors[0];
      throw new MinCoreRefused(
        `${describeRecord(first)} is a resolver error (${first.reason ?? "error"}${first.errno ? `, errno ${first.errno}` : ""}): libbpf refuses ${first.obj}` +
          (errors.length > 1 ? `; ${errors.length - 1} more` : ""),
        errors, first.obj);
    }
    const index = new Map<string, number>([["vmlinux", 0]]);
    session = new MinCoreSession(kernel);
    for (const m of mods) {
      const i = session.addModule(m.btf);
      if (!index.has(m.name)) index.set(m.name, i);
    }
    const recs: Array<{ kind: string; target: number; root: number; spec: readonly number[] }> = [];
    const unresolved: CoreRecord[] = [];
    const guarded = new Set<string>();
    let records = 0, resolved = 0, poisoned = 0;
    for (const rep of reports) {
      for (const x of rep.records) {
        records++;
        if (x.status === "poison") poisoned++;
        if (x.kind === "local_type_id") continue;
        if (x.localName !== "-" && x.localName !== "<anon>") {
          const key = `${x.localKind} ${x.localName}`;
          if (!guarded.has(key)) {
            guarded.add(key);
            if (mods.length > 0) session.guardName(x.localName, x.localKind.toUpperCase() as KindName);
          }
        }
        if (x.targBtf === null || x.targId === null) { unresolved.push(x); continue; }
        resolved++;
        const t = index.get(x.targBtf);
        if (t === undefined) throw new BtfError("INTERNAL", `record ${describeRecord(x)} names an unknown target ${x.targBtf}`);
        recs.push({ kind: x.kind, target: t, root: x.targId, spec: x.targSpec ?? [0] });
      }
    }
    // BTFGen keeps the members of the first matching candidate only. When
    // several module candidates matched a record, a later record may match
    // only one of the others: in the output, the earlier record would then
    // prune that one away (it lacks the earlier record's members). Each such
    // module is resolved alone and its own matches are kept too; a module
    // type then has every member any record of the objects reads in it.
    if (mods.length > 0 && reports.some((r) => r.records.some((x) => (x.matched ?? 0) > 1 && x.targBtf !== "vmlinux"))) {
      for (const m of mods) {
        const t = index.get(m.name)!;
        for (const o of objs) {
          for (const x of resolveCore(o, kernel, { modules: [m], name: o.name }).records) {
            if (x.targBtf === m.name && x.targId !== null && x.status !== "error") recs.push({ kind: x.kind, target: t, root: x.targId, spec: x.targSpec ?? [0] });
          }
        }
      }
    }
    session.recordMany(recs);
    const { btf, types } = session.build();
    const diverged: MinCoreResult["diverged"] = [];
    if (opts.verify !== false) {
      const out = Btf.parse(btf);
      try {
        objs.forEach((o, i) => {
          const again = resolveCore(o, out, { name: o.name, kernelName: "tailored" });
          again.records.forEach((y, j) => {
            const x = reports[i].records[j];
            if (!sameAnswer(x, y)) diverged.push({ record: x, got: y });
          });
        });
      } finally {
        out.free();
      }
      if (diverged.length > 0 && mods.length > 0) {
        const d = diverged[0];
        throw new BtfError("MINCORE_DIVERGED",
          `the tailored BTF would change ${describeRecord(d.record)}: ${d.record.status} ${d.record.newVal} on the kernel, ${d.got.status} ${d.got.newVal ?? d.got.reason} on the output`,
          { file: d.record.obj });
      }
    }
    return { btf, types, records, resolved, poisoned, unresolved, modulesSearched: mods.length > 0, diverged };
  } finally {
    session?.free();
    for (const b of owned) b.free();
  }
}
