// The cross-runtime conformance subset: the same fixtures through every
// operation of the registry (src/web/ops.ts), each output hashed with
// WebCrypto's SHA-256. Node (test/conformance.test.ts), Deno
// (test/deno/conformance.test.ts) and Chromium (test/browser/conformance.ts,
// page and worker) all run this file against the one bundle dist/index.js and
// must produce identical hash sets.
//
// Runtime-neutral: no node:, Deno. or DOM APIs; fixtures come through `read`.

import { OPS, type Api, type OpCase } from "../../src/web/ops.ts";

export const KERNELS = ["k61-50", "k61-47"] as const;
export const MODULES = ["loop", "tcp_bbr", "veth"] as const;
/** Modules as .ko files (test/fixtures/<kernel>/ko/<m>.ko.gz), for the operations that rewrite the file (distill-ko). */
export const KOS = [["k61-50", "tcp_bbr"]] as const;

/**
 * BPF objects whose CO-RE relocations are resolved ("core", "core-tsv"):
 * [case id, object fixture, kernel, modules]. Kernels named in KERNELS are
 * the fixture vmlinux; others are test/fixtures/core/kernels/<k>.btf.gz, as
 * are their modules.
 */
export const CORE_CASES = [
  ["k1+mod_a+mod_b/prog.o", "core/objs/prog.o.gz", "k1", ["mod_a", "mod_b"]],
  ["k1/prog-tm.o", "core/objs/prog-tm.o.gz", "k1", []],
  ["k1/prog-be.o", "core/objs/prog-be.o.gz", "k1", []],
  ["k61-50/biolatency.bpf.o", "core/corpus/biolatency.bpf.o.gz", "k61-50", []],
  ["k61-47/biolatency.bpf.o", "core/corpus/biolatency.bpf.o.gz", "k61-47", []],
] as const;

const coreKernelFile = (k: string) => `core/kernels/${k}.btf.gz`;

/** Fixture files the suite reads, relative to test/fixtures/. */
export function fixtureFiles(): string[] {
  const out: string[] = [];
  for (const k of KERNELS) {
    out.push(`${k}/vmlinux.btf.gz`);
    for (const m of MODULES) out.push(`${k}/modules/${m}.btf.gz`);
  }
  for (const [k, m] of KOS) out.push(`${k}/ko/${m}.ko.gz`);
  for (const [, obj, k, mods] of CORE_CASES) {
    out.push(obj);
    if (!(KERNELS as readonly string[]).includes(k)) out.push(coreKernelFile(k));
    for (const m of mods) out.push(coreKernelFile(m));
  }
  return [...new Set(out)];
}

export interface ConformanceResult {
  runtime: string;
  /** Operations that ran, in registry order. */
  ops: string[];
  /** "op/case" -> SHA-256 hex of the output (or of "error:CODE:message"). */
  hashes: Record<string, string>;
  /** "op/case" -> output length in bytes, for readable diffs. */
  sizes: Record<string, number>;
  ms: number;
}

export async function sha256hex(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource));
  let s = "";
  for (const b of d) s += b.toString(16).padStart(2, "0");
  return s;
}

const now = () => (typeof performance !== "undefined" ? performance.now() : Date.now());

export async function runConformance(api: Api, read: (rel: string) => Promise<Uint8Array>, runtime: string): Promise<ConformanceResult> {
  const t0 = now();
  await api.init();
  const kernels = new Map<string, Awaited<ReturnType<Api["loadBtf"]>>>();
  for (const k of KERNELS) {
    const rel = `${k}/vmlinux.btf.gz`;
    kernels.set(k, await api.loadBtf(await read(rel), { file: rel }));
  }
  const cases: OpCase[] = [];
  for (const k of KERNELS) {
    const kernel = kernels.get(k)!;
    const other = KERNELS.find((x) => x !== k)!;
    cases.push({ id: `${k}/vmlinux`, btf: kernel });
    for (const m of MODULES) {
      const rel = `${k}/modules/${m}.btf.gz`;
      const btf = await api.loadBtf(await read(rel), { base: kernel, file: rel });
      cases.push({ id: `${k}/${m}`, btf, kernel, target: kernels.get(other), targetName: other });
    }
  }
  for (const [k, m] of KOS) {
    const rel = `${k}/ko/${m}.ko.gz`;
    const kernel = kernels.get(k)!;
    const other = KERNELS.find((x) => x !== k)!;
    const ko = (await api.unwrap(await read(rel))).bytes;
    const btf = await api.loadBtf(ko, { base: kernel, file: rel });
    cases.push({ id: `${k}/${m}.ko`, btf, kernel, target: kernels.get(other), targetName: other, ko });
  }
  const coreOwned: Awaited<ReturnType<Api["loadBtf"]>>[] = [];
  for (const [id, objRel, k, mods] of CORE_CASES) {
    let vmlinux = kernels.get(k);
    if (!vmlinux) {
      vmlinux = await api.loadBtf(await read(coreKernelFile(k)), { file: coreKernelFile(k) });
      coreOwned.push(vmlinux);
    }
    const modules = [];
    for (const m of mods) {
      const btf = await api.loadBtf(await read(coreKernelFile(m)), { base: vmlinux, file: coreKernelFile(m) });
      coreOwned.push(btf);
      modules.push({ name: m, btf });
    }
    const bytes = (await api.unwrap(await read(objRel))).bytes;
    const name = objRel.replace(/^.*\//, "").replace(/\.gz$/, "");
    cases.push({ id: `core/${id}`, btf: vmlinux, modules, object: { name, bytes }, targetName: k });
  }
  const hashes: Record<string, string> = {};
  const sizes: Record<string, number> = {};
  for (const op of OPS) {
    for (const c of cases) {
      if (!op.applies(c)) continue;
      const key = `${op.name}/${c.id}`;
      let out: Uint8Array;
      try {
        out = await op.run(api, c);
      } catch (e) {
        // A refusal is an output too: it must be the same refusal everywhere.
        if (!(e instanceof api.BtfError)) throw e;
        out = new TextEncoder().encode(`error:${e.code}:${e.message}`);
      }
      hashes[key] = await sha256hex(out);
      sizes[key] = out.length;
    }
  }
  for (const c of cases) if (c.kernel) c.btf.free();
  for (const b of coreOwned.reverse()) b.free();
  for (const k of kernels.values()) k.free();
  return { runtime, ops: OPS.map((o) => o.name), hashes, sizes, ms: Math.round(now() - t0) };
}
