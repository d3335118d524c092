// The explorer's worker: owns the core and every loaded BTF, so parsing a
// 60 MB vmlinux, building the indexes and dumping never block the page.
// Per opened file it builds, once: the name index (search.ts) and the
// reverse-reference index (bulk.ts). Operations beyond viewing come from the
// registry (ops.ts) and are offered only when present there.

import { init, loadBtf, unwrap, readElf, Btf, BtfError, KIND_NAMES, sniff, DEFAULT_MAX_DECOMPRESSED, DROPPED_SIGNATURE } from "../index.js";
import * as api from "../index.js";
import { findOp, opNames, hasDistilledBase, type OpCase } from "./ops.js";
import { NameIndex } from "./search.js";
import { typeNames, typeKinds, ReverseIndex } from "./bulk.js";
import { typeLabel, memberRows, layoutSegments, kindName } from "./describe.js";
import { KIND as KINDS } from "../btf.js";
import type { Envelope, Request, Reply, DocInfo, Hit, SearchReply, TypeDetails, Caps, OpenMode, Download, CoreReply } from "./protocol.js";
import { changesBetween, compareType } from "./compare.js";

interface Doc {
  info: DocInfo;
  btf: Btf;
  names: NameIndex;
  rev: ReverseIndex;
  base?: Doc;
  /** A module opened from a .ko: the ELF file (decompressed), kept to write the distilled .ko from. */
  ko?: Uint8Array;
  /** A BPF object (.bpf.o, decompressed): the file its CO-RE relocations are resolved from. */
  object?: Uint8Array;
}

const docs = new Map<number, Doc>();
let nextDoc = 1;

/** Largest input read into memory (the decompressors have their own caps). */
const MAX_INPUT = 1 << 30;

interface WorkerScope {
  postMessage(msg: unknown, transfer?: Transferable[]): void;
  onmessage: ((ev: MessageEvent<Envelope>) => void) | null;
}
const scope = self as unknown as WorkerScope;

const now = () => performance.now();

function reply(msg: Reply, transfer?: Transferable[]): void {
  scope.postMessage(msg, transfer ?? []);
}

function progress(req: number, phase: string, done: number, total: number): void {
  reply({ req, progress: { phase, done, total } });
}

/** A Blob's bytes, reporting progress every MiB. */
async function readBlob(req: number, blob: Blob): Promise<Uint8Array> {
  const total = blob.size;
  if (total > MAX_INPUT) throw new BtfError("TOO_LARGE", `input is ${total} bytes; the explorer reads at most ${MAX_INPUT}`);
  let buf = new Uint8Array(total > 0 ? total : 1 << 20);
  let n = 0;
  let reported = 0;
  const reader = blob.stream().getReader();
  progress(req, "reading", 0, total);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (n + value.length > MAX_INPUT) throw new BtfError("TOO_LARGE", `input exceeds ${MAX_INPUT} bytes`);
    if (n + value.length > buf.length) {
      const bigger = new Uint8Array(Math.max(buf.length * 2, n + value.length));
      bigger.set(buf.subarray(0, n));
      buf = bigger;
    }
    buf.set(value, n);
    n += value.length;
    if (n - reported >= 1 << 20) { progress(req, "reading", n, total); reported = n; }
  }
  progress(req, "reading", n, n);
  return buf.subarray(0, n);
}

/**
 * gzip through the platform's DecompressionStream, which is native code and
 * reports progress, with the library's cap on the output. Anything it cannot
 * take (other formats, a corrupt stream) is left to loadBtf's own unwrapping,
 * which gives the typed error.
 */
async function nativeGunzip(req: number, bytes: Uint8Array): Promise<Uint8Array | null> {
  if (sniff(bytes) !== "gzip" || typeof DecompressionStream !== "function") return null;
  const chunks: Uint8Array[] = [];
  let total = 0;
  let fed = 0;
  const step = 1 << 20;
  try {
    const ds = new DecompressionStream("gzip");
    const writer = ds.writable.getWriter();
    const feeding = (async () => {
      for (; fed < bytes.length; fed += step) await writer.write(bytes.subarray(fed, Math.min(bytes.length, fed + step)) as Uint8Array<ArrayBuffer>);
      await writer.close();
    })();
    feeding.catch(() => {});
    const reader = ds.readable.getReader();
    let reported = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > DEFAULT_MAX_DECOMPRESSED) {
        await reader.cancel().catch(() => {});
        throw new BtfError("TOO_LARGE", `gzip output exceeds the cap of ${DEFAULT_MAX_DECOMPRESSED} bytes`);
      }
      chunks.push(value);
      if (total - reported >= 4 << 20) { progress(req, "decompressing", Math.min(fed, bytes.length), bytes.length); reported = total; }
    }
    await feeding;
  } catch (e) {
    if (e instanceof BtfError) throw e;
    return null;
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) { out.set(c, o); o += c.length; }
  return out;
}

/** The file name, numbered when another open document has it already. */
function uniqueName(name: string): string {
  const taken = new Set([...docs.values()].map((d) => d.info.name));
  if (!taken.has(name)) return name;
  for (let i = 2; ; i++) if (!taken.has(`${name} (${i})`)) return `${name} (${i})`;
}

function latestKernel(): Doc | undefined {
  let k: Doc | undefined;
  for (const d of docs.values()) if (d.info.role === "kernel") k = d;
  return k;
}

function getDoc(id: number): Doc {
  const d = docs.get(id);
  if (!d) throw new BtfError("USAGE", `no open document ${id}`);
  return d;
}

/** Parse as a kernel (base BTF) or as a module split on a loaded kernel. */
async function parseAs(bytes: Uint8Array, name: string, mode: OpenMode, baseDoc?: number): Promise<{ btf: Btf; base?: Doc }> {
  const base = baseDoc !== undefined ? getDoc(baseDoc) : latestKernel();
  if (mode === "split") {
    if (!base) throw new BtfError("NO_BASE", "open the module's kernel (vmlinux) first");
    return { btf: await loadBtf(bytes, { base: base.btf, file: name }), base };
  }
  try {
    const btf = await loadBtf(bytes, { file: name });
    // A .ko with .BTF.base reads on its own (on that distilled base); with a
    // kernel open, read it as a module of that kernel (relocated, as libbpf's
    // btf__parse_split does), or on its own when it does not relocate there.
    const distilled = btf.source?.distilledBase;
    if (distilled && base && mode === "auto") {
      let onKernel: Btf | undefined;
      try {
        onKernel = await loadBtf(bytes, { base: base.btf, file: name });
      } catch (e) {
        if (!(e instanceof BtfError)) throw e;
      }
      if (onKernel) {
        btf.free();
        distilled.free();
        return { btf: onKernel, base };
      }
    }
    return { btf };
  } catch (e) {
    if (mode === "base" || !(e instanceof BtfError)) throw e;
    // Module BTF does not stand alone: retry on the kernel, or say what is missing.
    if (!base) {
      if (e.code === "BAD_STRINGS" || e.code === "NO_BASE") throw new BtfError("NO_BASE", `${name} looks like module (split) BTF: open its kernel's vmlinux first (${e.message})`);
      throw e;
    }
    try {
      return { btf: await loadBtf(bytes, { base: base.btf, file: name }), base };
    } catch (e2) {
      if (e2 instanceof BtfError && e.code !== "BAD_STRINGS" && e.code !== "NO_BASE") throw new BtfError(e.code, `${e.message}; as a module on ${base.info.name}: ${e2.message}`, { offset: e.offset, typeId: e.typeId, file: name });
      throw e2;
    }
  }
}

/** Why a module cannot be offered as a distilled .ko, or null when it can. */
function distillKoBlocker(btf: Btf, ko: Uint8Array | undefined): string | null {
  if (!findOp("distill-ko")) return "distill to .ko is not in this build of btfkit";
  if (!ko) return "opened as raw BTF, not a .ko: there is no module file to rewrite (open the .ko itself)";
  if (hasDistilledBase(btf)) return "this .ko has .BTF.base already: it is distilled";
  return null;
}

async function open(req: number, body: Extract<Request, { op: "open" }>): Promise<DocInfo> {
  const t0 = now();
  const read = await readBlob(req, body.file);
  const gunzipped = await nativeGunzip(req, read);
  // The other wrappers (xz, zstd, lz4, bzImage) are peeled here rather than in
  // loadBtf, so a module's .ko is at hand for the distilled .ko download.
  let unwrapped;
  try {
    unwrapped = await unwrap(gunzipped ?? read);
  } catch (e) {
    throw e instanceof BtfError && !e.file ? e.withFile(body.name) : e;
  }
  const layers = [...(gunzipped ? ["gzip"] : []), ...unwrapped.layers];
  const t1 = now();
  progress(req, "parsing", 0, 1);
  const { btf, base } = await parseAs(unwrapped.bytes, body.name, body.mode, body.baseDoc);
  if (btf.source) btf.source.layers = layers;
  const ko = base && unwrapped.kind === "elf" ? unwrapped.bytes : undefined;
  // A relocatable ELF with .BTF.ext is a BPF object: its .BTF stands alone, and
  // its CO-RE records are what the relocation panel resolves.
  const isObject = !base && unwrapped.kind === "elf" && (btf.source?.sections?.includes(".BTF.ext") ?? false);
  let relocations: number | undefined;
  if (isObject) {
    try {
      const o = api.BpfObject.open(unwrapped.bytes, body.name);
      relocations = o.recordCount;
      o.free();
    } catch (e) {
      btf.free();
      throw e;
    }
  }
  const t2 = now();
  try {
    progress(req, "indexing names", 0, 1);
    const from = base ? btf.startId : 1;
    const names = new NameIndex(typeNames(btf, from), typeKinds(btf, from), from);
    const t3 = now();
    progress(req, "indexing references", 0, 1);
    const rev = ReverseIndex.build(btf);
    const t4 = now();
    const h = btf.header;
    const doc = nextDoc++;
    const info: DocInfo = {
      doc,
      name: uniqueName(body.name),
      role: base ? "module" : isObject ? "object" : "kernel",
      relocations,
      baseDoc: base?.info.doc,
      baseName: base?.info.name,
      bytes: read.length,
      layers: btf.source?.layers ?? [],
      container: btf.source?.container ?? "raw",
      startId: btf.startId,
      typeCount: btf.typeCount,
      strLen: h.strLen,
      header: { hdrLen: h.hdrLen, typeLen: h.typeLen, strLen: h.strLen, flags: h.flags, endian: h.endian },
      pointerSize: btf.pointerSize ?? null,
      kinds: Object.entries(btf.kindCounts()),
      sections: btf.source?.sections ?? [],
      distillKo: base ? distillKoBlocker(btf, ko) : isObject ? "a BPF object is not a module" : "a kernel is not distilled: open one of its modules (.ko)",
      ms: { read: t1 - t0, parse: t2 - t1, names: t3 - t2, refs: t4 - t3 },
    };
    docs.set(doc, { info, btf, names, rev, base, ko, object: isObject ? unwrapped.bytes : undefined });
    return info;
  } catch (e) {
    btf.free();
    throw e;
  }
}

const ID_QUERY = /^\s*[#[]?(\d+)\]?\s*$/;

function search(body: Extract<Request, { op: "search" }>): SearchReply {
  const t0 = now();
  const d = getDoc(body.doc);
  const limit = Math.max(1, Math.min(body.limit, 1000));
  const hits: Hit[] = [];
  const m = ID_QUERY.exec(body.q);
  if (m) {
    const id = Number(m[1]);
    if (id > 0 && id < d.btf.typeCount) {
      const t = d.btf.type(id);
      if (body.kind === 0 || t.kind === body.kind) hits.push({ id, kind: t.kind, name: t.name, base: id < d.info.startId && d.info.role === "module" });
    }
  }
  const idHit = hits.length ? hits[0].id : -1;
  const own = d.names.search(body.q, body.kind, limit);
  let total = own.total + hits.length;
  for (const h of own.hits) if (hits.length < limit && h.id !== idHit) hits.push(h);
  if (body.scope === "all" && d.base) {
    const more = d.base.names.search(body.q, body.kind, Math.max(0, limit - hits.length));
    total += more.total;
    for (const h of more.hits) if (h.id !== idHit) hits.push({ ...h, base: true });
  }
  return { total, hits, ms: now() - t0 };
}

function nameOf(d: Doc, id: number): string {
  if (d.names.has(id)) return d.names.name(id);
  if (d.base?.names.has(id)) return d.base.names.name(id);
  return d.btf.type(id).name;
}

/** Kinds that only wrap another type: a use through them is a use of what they wrap. */
const WRAPPERS = new Set<number>([KINDS.PTR, KINDS.CONST, KINDS.VOLATILE, KINDS.RESTRICT, KINDS.TYPE_TAG, KINDS.ARRAY, KINDS.FUNC_PROTO]);
/** Display order of users: composites, typedefs, variables, functions, the rest. */
const USER_RANK: Record<number, number> = { [KINDS.STRUCT]: 0, [KINDS.UNION]: 0, [KINDS.TYPEDEF]: 1, [KINDS.VAR]: 2, [KINDS.DATASEC]: 2, [KINDS.FUNC]: 3 };

function kindOf(d: Doc, id: number): number {
  if (d.names.has(id)) return d.names.kind(id);
  if (d.base?.names.has(id)) return d.base.names.kind(id);
  return d.btf.type(id).kind;
}

/**
 * The named types that use `id`: its referrers, seen through pointers,
 * qualifiers, arrays and function prototypes (so struct sk_buff is used by
 * the structs holding a `struct sk_buff *` and the functions taking one).
 * One walk over the reverse index from `id`, each type visited once.
 */
function users(d: Doc, id: number, limit: number): TypeDetails["refs"] {
  const seen = new Set<number>([id]);
  const stack = [id];
  const found: number[] = [];
  const via = new Map<number, number>();
  let direct = 0;
  while (stack.length) {
    const cur = stack.pop()!;
    for (const r of d.rev.referrers(cur)) {
      if (seen.has(r)) continue;
      seen.add(r);
      if (cur === id) direct++;
      if (WRAPPERS.has(kindOf(d, r))) { stack.push(r); continue; }
      found.push(r);
      if (cur !== id) via.set(r, cur);
    }
  }
  const rank = (x: number) => USER_RANK[kindOf(d, x)] ?? 4;
  found.sort((a, b) => rank(a) - rank(b) || a - b);
  const items: Hit[] = found.slice(0, limit).map((r) => {
    const v = via.get(r);
    return {
      id: r, kind: kindOf(d, r), name: typeLabel(d.btf, r),
      base: d.info.role === "module" && r < d.info.startId,
      via: v !== undefined ? typeLabel(d.btf, v) : undefined,
    };
  });
  return { total: found.length, direct, items };
}

function details(body: Extract<Request, { op: "type" }>): TypeDetails {
  const d = getDoc(body.doc);
  const btf = d.btf;
  const id = body.id;
  if (!Number.isInteger(id) || id <= 0 || id >= btf.typeCount) throw new BtfError("BAD_TYPE_ID", `type id ${id} is not in 1..${btf.typeCount - 1}`, { typeId: id });
  const t = btf.type(id);
  const kind = t.kind;
  const members = memberRows(btf, id);
  const size = t.size ?? null;
  const resolvedSize = t.resolvedSize;
  const segments = kind === KINDS.STRUCT || kind === KINDS.UNION || kind === KINDS.DATASEC
    ? layoutSegments(kind === KINDS.DATASEC ? KINDS.STRUCT : kind, size ?? 0, members)
    : [];
  let params: TypeDetails["params"] = [];
  const proto = kind === KINDS.FUNC ? t.sizeOrType : kind === KINDS.FUNC_PROTO ? id : 0;
  if (proto > 0 && proto < btf.typeCount && btf.type(proto).kind === KINDS.FUNC_PROTO) {
    params = btf.type(proto).params.map((p) => ({ name: p.name, type: p.type, typeLabel: typeLabel(btf, p.type) }));
  }
  const ref = t.type ?? (t.array ? t.array.type : undefined);
  const refs = users(d, id, Math.max(0, Math.min(body.refLimit, 5000)));
  let c: string | null = null;
  let cNote = "";
  const dumpC = (btf as unknown as { dumpC?: (o: { root: number[] }) => string | Uint8Array }).dumpC;
  if (typeof dumpC === "function") {
    try {
      const out = dumpC.call(btf, { root: [id] });
      c = typeof out === "string" ? out : new TextDecoder().decode(out);
    } catch (e) {
      cNote = e instanceof BtfError ? e.describe() : String(e);
    }
  } else {
    cNote = "The C dump is not in this build of btfkit yet; this panel shows it (with the type's dependencies) once Btf#dumpC lands.";
  }
  return {
    doc: d.info.doc,
    id,
    kind,
    kindName: kindName(kind),
    name: nameOf(d, id),
    label: typeLabel(btf, id),
    inBase: d.info.role === "module" && id < d.info.startId,
    size,
    resolvedSize,
    raw: t.raw(),
    members,
    segments,
    values: t.values.slice(0, 4096).map((v) => ({ name: v.name, value: v.value.toString() })),
    params,
    target: ref !== undefined ? { id: ref, label: typeLabel(btf, ref) } : null,
    refs,
    c,
    cNote,
  };
}

function close(doc: number): void {
  const d = docs.get(doc);
  if (!d) return;
  for (const other of [...docs.values()]) if (other.base === d) close(other.info.doc);
  d.btf.free();
  docs.delete(doc);
}

/** The check operation from the registry, per selected kernel, merged into one report. */
async function check(body: Extract<Request, { op: "check" }>): Promise<unknown> {
  const op = findOp("check");
  if (!op) throw new BtfError("UNSUPPORTED", "check is not in this build of btfkit yet");
  const m = getDoc(body.doc);
  if (m.info.role !== "module" || !m.base) throw new BtfError("USAGE", "choose a module to check");
  const results: unknown[] = [];
  for (const k of body.kernels) {
    const kd = getDoc(k);
    const c: OpCase = { id: `${m.info.name}@${kd.info.name}`, btf: m.btf, kernel: m.base.btf, target: kd.btf, targetName: kd.info.name };
    const report = JSON.parse(new TextDecoder().decode(await op.run(api, c))) as { results?: unknown[] };
    if (Array.isArray(report.results)) results.push(...report.results);
  }
  return { results };
}

/** A module's name as `btfkit core` gives it: the file name less .btf, .ko and compression suffixes. */
function moduleName(file: string): string {
  let b = file.replace(/ \(\d+\)$/, "");
  for (let again = true; again;) {
    again = false;
    for (const suf of [".gz", ".xz", ".zst", ".lz4", ".btf", ".ko"]) {
      if (b.endsWith(suf) && b.length > suf.length) { b = b.slice(0, -suf.length); again = true; }
    }
  }
  return b;
}

/**
 * The core operation from the registry: the object's CO-RE relocations on
 * each selected kernel, with the modules open on that kernel (in name order,
 * as /sys/kernel/btf lists them) searched where vmlinux lacks a type.
 */
async function core(body: Extract<Request, { op: "core" }>): Promise<CoreReply> {
  const op = findOp("core");
  if (!op) throw new BtfError("UNSUPPORTED", "CO-RE relocation is not in this build of btfkit yet");
  const o = getDoc(body.doc);
  if (o.info.role !== "object" || !o.object) throw new BtfError("USAGE", "choose a BPF object (.bpf.o)");
  const results: CoreReply["results"] = [];
  for (const k of body.kernels) {
    const kd = getDoc(k);
    if (kd.info.role !== "kernel") throw new BtfError("USAGE", `${kd.info.name} is not a kernel`);
    const mods = [...docs.values()].filter((d) => d.base === kd).map((d) => ({ name: moduleName(d.info.name), doc: d }));
    mods.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const c: OpCase = { id: `${o.info.name}@${kd.info.name}`, btf: kd.btf, modules: mods.map((m) => ({ name: m.name, btf: m.doc.btf })), object: { name: o.info.name, bytes: o.object }, targetName: kd.info.name };
    const report = JSON.parse(new TextDecoder().decode(await op.run(api, c))) as { results: CoreReply["results"] };
    const targetDocs: Record<string, number> = { vmlinux: kd.info.doc };
    for (const m of mods) targetDocs[m.name] = m.doc.info.doc;
    for (const r of report.results) results.push({ ...r, targetDocs });
  }
  return { results };
}

async function download(body: Extract<Request, { op: "download" }>): Promise<Download> {
  const op = findOp(body.what);
  if (!op) throw new BtfError("UNSUPPORTED", `${body.what} is not in this build of btfkit yet`);
  const d = getDoc(body.doc);
  const c: OpCase = { id: d.info.name, btf: d.btf, kernel: d.base?.btf, ko: d.ko };
  if (!op.applies(c)) throw new BtfError("USAGE", `${body.what} does not apply to ${d.info.name}${body.what === "distill-ko" && d.info.distillKo ? `: ${d.info.distillKo}` : ""}`);
  // "distill-ko" -> loop.distilled.ko; other operations -> <module>.<op>.bin
  const stem = d.info.name.replace(/(\.(gz|xz|zst|lz4))?$/, "").replace(/\.(ko|btf)$/, "");
  const name = body.what === "distill-ko" ? `${stem}.distilled.ko` : `${stem}.${body.what}.bin`;
  const bytes = await op.run(api, c);
  // The CLI's warning: the signature covered the old bytes and is not carried over.
  const warnings = body.what === "distill-ko" && d.ko && readElf(d.ko).signature ? [`${d.info.name}: ${DROPPED_SIGNATURE}`] : [];
  return { name, bytes, warnings };
}

async function handle(env: Envelope): Promise<void> {
  const { req, body } = env;
  try {
    await init();
    let out: unknown;
    const transfer: Transferable[] = [];
    switch (body.op) {
      case "caps": {
        const caps: Caps = { ops: opNames(), dumpC: typeof (Btf.prototype as unknown as Record<string, unknown>).dumpC === "function", kinds: [...KIND_NAMES], version: "btfkit" };
        out = caps;
        break;
      }
      case "open": out = await open(req, body); break;
      case "search": out = search(body); break;
      case "type": out = details(body); break;
      case "close": close(body.doc); out = null; break;
      case "check": out = await check(body); break;
      case "changes": out = changesBetween(getDoc(body.a).btf, getDoc(body.b).btf, body.a, body.b); break;
      case "compare": out = compareType(getDoc(body.doc).btf, body.doc, body.id, getDoc(body.other).btf, body.other, body.otherIsOld); break;
      case "core": out = await core(body); break;
      case "download": {
        const r = await download(body);
        transfer.push(r.bytes.buffer as ArrayBuffer);
        out = r;
        break;
      }
      default: throw new BtfError("USAGE", `unknown request ${(body as { op: string }).op}`);
    }
    reply({ req, ok: true, body: out }, transfer);
  } catch (e) {
    const error = e instanceof BtfError ? { code: e.code, message: e.describe() } : { code: "INTERNAL", message: String((e as Error)?.message ?? e) };
    reply({ req, ok: false, error });
  }
}

// Requests run one at a time, in order: the core is single-threaded and the
// page relies on answers arriving in request order.
let queue: Promise<void> = Promise.resolve();
scope.onmessage = (ev) => {
  const env = ev.data;
  queue = queue.then(() => handle(env));
};
