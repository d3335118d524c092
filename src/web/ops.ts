// The one registry of btfkit operations that the explorer offers and that the
// cross-runtime conformance suite (test/conformance/) hashes in Node, Deno and
// Chromium. An operation is listed here only once the library really has it:
// the explorer greys out a panel whose operation is missing, and the
// conformance output says which operations ran.
//
// To add an operation when it lands (C dump, distill, relocate, dedup, check),
// append one entry to OPS, e.g.
//   { name: "c", summary: "C header (bpftool format c)", applies: () => true,
//     run: (_api, c) => c.btf.dumpCBytes() },
//   { name: "check", summary: "compatibility report (JSON, as `btfkit check --json`)",
//     applies: (c) => c.target !== undefined,
//     run: (api, c) => utf8(JSON.stringify(api.check(c.btf, c.target!))) },
// Every `run` must be a pure function of its inputs: its bytes are hashed and
// compared across runtimes.
//
// The explorer (worker.ts) looks two names up here:
//  - "check": run with { btf: module, kernel: its kernel, target, targetName }
//    per selected kernel; its output is the JSON report ({ results: [...] },
//    the CheckReport of src/check.ts), whose results the panel merges and shows;
//  - "distill-ko": run with { btf: module, kernel, ko: the module's .ko }; its
//    output is offered as a download (<module>.distilled.ko).
//  - "core": run with { btf: a kernel's vmlinux, modules, object, targetName:
//    the kernel's name }; its output is the JSON report of `btfkit core
//    --json` (coreReportJson), which the explorer's relocation view shows.
// The C panel calls Btf#dumpC({ root: [id] }) directly when the method exists.
//
// The library is passed in (`api`) instead of imported, so the same registry
// drives the bundled dist/index.js (conformance) and the explorer's worker.

import type * as Btfkit from "../index.js";
import type { Btf } from "../btf.js";

export type Api = typeof Btfkit;

/** One input of an operation. */
export interface OpCase {
  /** Stable name, e.g. "k61-50/vmlinux" or "k61-50/loop". */
  id: string;
  /** The BTF under test: a kernel, or a module split on `kernel`. */
  btf: Btf;
  /** The kernel a module was built against (its base); absent for a kernel. */
  kernel?: Btf;
  /** A second kernel, for operations that move or judge a module (relocate, check). */
  target?: Btf;
  targetName?: string;
  /**
   * The module's ELF file as opened (decompressed), when it came from a .ko:
   * what a distilled .ko is written from.
   */
  ko?: Uint8Array;
  /**
   * A BPF object (.bpf.o, decompressed) whose CO-RE relocations are resolved
   * on `btf` (then a kernel's vmlinux) and `modules` (split on it, in search
   * order). Cases with an object are for the core operations only.
   */
  object?: { name: string; bytes: Uint8Array };
  modules?: { name: string; btf: Btf }[];
}

export interface Op {
  name: string;
  summary: string;
  /** Whether the operation applies to this case (e.g. module-only operations). */
  applies(c: OpCase): boolean;
  /** The operation's output, deterministic for its inputs. */
  run(api: Api, c: OpCase): Uint8Array | Promise<Uint8Array>;
}

const enc = new TextEncoder();
export const utf8 = (s: string): Uint8Array => enc.encode(s);

export function concatBytes(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** What a parse establishes: the header, counts, kernel-level verdict and the re-serialised own part. */
function parseSummary(api: Api, btf: Btf): Uint8Array {
  let kernel = "ok";
  try {
    btf.validateKernel();
  } catch (e) {
    if (!(e instanceof api.BtfError)) throw e;
    kernel = e.code;
  }
  const summary = {
    typeCount: btf.typeCount,
    startId: btf.startId,
    startStrOff: btf.startStrOff,
    header: btf.header,
    pointerSize: btf.pointerSize ?? null,
    kinds: btf.kindCounts(),
    kernelValidation: kernel,
  };
  return concatBytes([utf8(JSON.stringify(summary) + "\n"), btf.toBytes()]);
}

export const OPS: readonly Op[] = [
  {
    name: "parse",
    summary: "parse and validate; header, kind counts, kernel-level verdict, bytes written back",
    applies: (c) => c.object === undefined,
    run: (api, c) => parseSummary(api, c.btf),
  },
  {
    name: "raw",
    summary: "bpftool raw text (btf dump file F format raw)",
    applies: (c) => c.object === undefined,
    run: (_api, c) => c.btf.dumpRawBytes(),
  },
  {
    name: "json",
    summary: "JSON dump of every own type",
    applies: (c) => c.object === undefined,
    run: (_api, c) => c.btf.dumpJsonBytes(),
  },
  {
    name: "distill",
    summary: "btf__distill_base: the distilled base, then the new split (raw bytes)",
    applies: (c) => c.kernel !== undefined,
    run: (api, c) => {
      const d = api.distill(c.btf);
      try {
        return concatBytes([d.base.toBytes(), d.split.toBytes()]);
      } finally {
        d.split.free();
        d.base.free();
      }
    },
  },
  {
    name: "relocate",
    summary: "distill, then btf__relocate onto the target kernel: the relocated split, or every problem",
    applies: (c) => c.kernel !== undefined && c.target !== undefined,
    run: (api, c) => {
      const d = api.distill(c.btf);
      try {
        const r = api.relocate(d.split, c.target!);
        const out = r.btf.toBytes();
        r.btf.free();
        return out;
      } catch (e) {
        if (e instanceof api.RelocationError) return utf8(JSON.stringify(e.problems));
        throw e;
      } finally {
        d.split.free();
        d.base.free();
      }
    },
  },
  {
    name: "check",
    summary: "compatibility report (JSON, as `btfkit check --json`)",
    applies: (c) => c.kernel !== undefined && c.target !== undefined,
    run: (api, c) => {
      const checker = new api.Checker([{ name: c.targetName ?? "target", btf: c.target! }], { builtAgainst: { name: "built-against", btf: c.kernel! } });
      checker.checkModule({ name: c.id, raw: c.btf.toBytes() });
      return utf8(JSON.stringify(checker.finish()));
    },
  },
  {
    name: "diff",
    summary: "btfkit diff --json between the module's kernel and the target kernel (details included)",
    applies: (c) => c.kernel !== undefined && c.target !== undefined && c.ko === undefined,
    run: (api, c) => utf8(JSON.stringify(api.diff(c.kernel!, c.target!), api.diffJsonReplacer)),
  },
  {
    name: "distill-ko",
    summary: "the module as `btfkit distill X.ko --base V -o OUT.ko` writes it (.BTF.base added, .BTF_ids renumbered)",
    // Only a .ko opened on its kernel; one that has .BTF.base is distilled already.
    applies: (c) => c.kernel !== undefined && c.ko !== undefined && !hasDistilledBase(c.btf),
    run: (api, c) => api.distillKo(c.ko!, c.btf).bytes,
  },
  {
    name: "core",
    summary: "CO-RE relocations of a BPF object on a kernel and its modules (JSON, as `btfkit core --json`)",
    applies: (c) => c.object !== undefined,
    run: (api, c) => utf8(api.coreReportJson([
      api.resolveCore(c.object!.bytes, c.btf, { modules: c.modules, name: c.object!.name, kernelName: c.targetName ?? c.id }),
    ])),
  },
  {
    name: "core-tsv",
    summary: "the same relocations as libbpf's golden TSV (`btfkit core --format tsv`, rendered by the core)",
    applies: (c) => c.object !== undefined,
    run: (api, c) => {
      const obj = api.BpfObject.open(c.object!.bytes, c.object!.name);
      try {
        return api.resolveCoreTsv(obj, c.btf, { modules: c.modules, name: c.object!.name });
      } finally {
        obj.free();
      }
    },
  },
];

/** The module was read from a .ko that carries .BTF.base (a distilled module). */
export function hasDistilledBase(btf: Btf): boolean {
  return btf.source?.sections?.includes(".BTF.base") ?? false;
}

export function findOp(name: string): Op | undefined {
  return OPS.find((o) => o.name === name);
}

export function opNames(): string[] {
  return OPS.map((o) => o.name);
}
