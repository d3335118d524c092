// The explorer page: UI only. All BTF work happens in the worker (worker.ts),
// whose source is embedded in this script and started from a blob: URL, so
// the page runs the same from file:// and from any static server. The DOM is
// built with createElement/textContent only: names from a BTF file are data,
// never markup.

import WORKER_SOURCE from "virtual:explorer-worker";
import type { Envelope, Request, Reply, Caps, DocInfo, SearchReply, TypeDetails, Hit, Segment, OpenMode, Download } from "./protocol.js";
import { KIND } from "../generated/kinds.js";

// ---- worker RPC --------------------------------------------------------------

type Pending = { resolve(v: unknown): void; reject(e: Error & { code?: string }): void; onProgress?: (p: { phase: string; done: number; total: number }) => void };

class Rpc {
  private worker: Worker;
  private seq = 0;
  private pending = new Map<number, Pending>();

  constructor(source: string) {
    const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
    this.worker = new Worker(url);
    this.worker.onmessage = (ev: MessageEvent<Reply>) => this.onReply(ev.data);
    this.worker.onerror = (ev) => {
      for (const p of this.pending.values()) p.reject(Object.assign(new Error(`worker failed: ${ev.message}`), { code: "INTERNAL" }));
      this.pending.clear();
    };
  }

  call<T>(body: Request, onProgress?: Pending["onProgress"]): Promise<T> {
    const req = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(req, { resolve: resolve as (v: unknown) => void, reject, onProgress });
      const env: Envelope = { req, body };
      this.worker.postMessage(env);
    });
  }

  private onReply(r: Reply): void {
    const p = this.pending.get(r.req);
    if (!p) return;
    if ("progress" in r) { p.onProgress?.(r.progress); return; }
    this.pending.delete(r.req);
    if (r.ok) p.resolve(r.body);
    else p.reject(Object.assign(new Error(r.error.message), { code: r.error.code }));
  }
}

// ---- DOM helpers -------------------------------------------------------------

type Child = Node | string | number | null | undefined | false;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | undefined> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) e.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(typeof c === "number" ? String(c) : c);
  return e;
}

function byId<T extends HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`missing #${id}`);
  return e as T;
}

const fmt = new Intl.NumberFormat("en-US");
const n = (x: number) => fmt.format(x);
const bytesText = (b: number) => (b >= 1 << 20 ? `${(b / (1 << 20)).toFixed(1)} MiB` : b >= 1024 ? `${(b / 1024).toFixed(1)} KiB` : `${b} B`);

// ---- state -------------------------------------------------------------------

const rpc = new Rpc(WORKER_SOURCE);
let caps: Caps = { ops: [], dumpC: false, kinds: [], version: "" };
let kindNames: string[] = [];
const docs = new Map<number, DocInfo>();
let current: number | null = null;
let searchSeq = 0;
let shownSearch = 0;

const ui = {
  file: byId<HTMLInputElement>("file"),
  doc: byId<HTMLSelectElement>("doc"),
  closeDoc: byId<HTMLButtonElement>("close-doc"),
  progress: byId<HTMLDivElement>("progress"),
  status: byId<HTMLSpanElement>("status"),
  q: byId<HTMLInputElement>("q"),
  kind: byId<HTMLSelectElement>("kind"),
  scope: byId<HTMLInputElement>("scope"),
  scopeLabel: byId<HTMLLabelElement>("scope-label"),
  count: byId<HTMLDivElement>("count"),
  results: byId<HTMLOListElement>("results"),
  welcome: byId<HTMLDivElement>("welcome"),
  overview: byId<HTMLElement>("overview"),
  type: byId<HTMLElement>("type"),
  dropmask: byId<HTMLDivElement>("dropmask"),
};

function setStatus(text: string, isError = false): void {
  ui.status.textContent = text;
  ui.status.className = isError ? "error" : "";
}

function showProgress(phase: string, done: number, total: number): void {
  ui.progress.hidden = false;
  (ui.progress.querySelector(".label") as HTMLElement).textContent = total > 1 ? `${phase} ${bytesText(done)} / ${bytesText(total)}` : `${phase}…`;
  const fill = ui.progress.querySelector(".fill") as HTMLElement;
  fill.style.width = `${total > 0 ? Math.min(100, (100 * done) / total) : 0}%`;
  fill.classList.toggle("busy", !(total > 1));
}

function typeHref(doc: number, id: number): string { return `#d=${doc}&t=${id}`; }

function kindBadge(kind: number): HTMLElement {
  const name = kindNames[kind] ?? `KIND_${kind}`;
  return el("span", { class: `kind k-${name.toLowerCase()}`, title: name }, name.replace("FUNC_PROTO", "PROTO").replace("DECL_TAG", "DTAG").replace("TYPE_TAG", "TTAG"));
}

function typeLink(doc: number, id: number, text: string, base?: boolean): HTMLAnchorElement {
  const a = el("a", { href: typeHref(doc, id), class: base ? "base" : undefined }, text || "(anon)");
  return a;
}

// ---- documents ----------------------------------------------------------------

function refreshDocs(): void {
  ui.doc.replaceChildren(...[...docs.values()].map((d) =>
    el("option", { value: String(d.doc) }, d.role === "kernel" ? `${d.name} — kernel, ${n(d.typeCount - d.startId)} types` : `${d.name} — module on ${d.baseName}, ${n(d.typeCount - d.startId)} types`)));
  const has = docs.size > 0;
  ui.doc.disabled = ui.closeDoc.disabled = ui.q.disabled = ui.kind.disabled = !has;
  if (current !== null) ui.doc.value = String(current);
  ui.welcome.hidden = has;
}

function selectDoc(doc: number | null): void {
  current = doc;
  refreshDocs();
  const d = doc !== null ? docs.get(doc) : undefined;
  ui.scopeLabel.hidden = !(d && d.role === "module");
  ui.type.hidden = true;
  renderOverview();
  runSearch();
}

/** Kernels before modules, so a drop of vmlinux plus modules just works. */
function openOrder(files: File[]): File[] {
  const isKernel = (f: File) => /vmlinu[xz]|\bbtf\/vmlinux/i.test(f.name);
  return [...files].sort((a, b) => Number(isKernel(b)) - Number(isKernel(a)));
}

/** The kernel a module opened now goes on: the selected kernel, or the selected module's kernel. */
function contextKernel(): number | undefined {
  const d = current !== null ? docs.get(current) : undefined;
  if (!d) return undefined;
  return d.role === "kernel" ? d.doc : d.baseDoc;
}

async function openFiles(files: File[], mode: OpenMode = "auto"): Promise<void> {
  for (const f of openOrder(files)) {
    setStatus("");
    showProgress("reading", 0, f.size);
    try {
      const info = await rpc.call<DocInfo>({ op: "open", file: f, name: f.name, mode, baseDoc: contextKernel() }, (p) => showProgress(`${f.name}: ${p.phase}`, p.done, p.total));
      docs.set(info.doc, info);
      setStatus(`${info.name}: ${n(info.typeCount - info.startId)} types in ${Math.round(info.ms.read + info.ms.parse + info.ms.names + info.ms.refs)} ms`);
      selectDoc(info.doc);
    } catch (e) {
      setStatus(`${f.name}: ${(e as Error).message}`, true);
    }
  }
  ui.progress.hidden = true;
  ui.q.focus();
}

async function closeCurrent(): Promise<void> {
  if (current === null) return;
  const closing = current;
  await rpc.call({ op: "close", doc: closing });
  for (const d of [...docs.values()]) if (d.doc === closing || d.baseDoc === closing) docs.delete(d.doc);
  const next = [...docs.keys()].pop() ?? null;
  if (location.hash) history.replaceState(null, "", location.pathname + location.search);
  selectDoc(next);
}

// ---- search -------------------------------------------------------------------

async function runSearch(): Promise<void> {
  if (current === null) { ui.results.replaceChildren(); ui.count.textContent = ""; return; }
  const doc = current;
  const seq = ++searchSeq;
  try {
    const r = await rpc.call<SearchReply>({ op: "search", doc, q: ui.q.value, kind: Number(ui.kind.value), scope: ui.scope.checked ? "all" : "own", limit: 200 });
    if (seq < shownSearch || doc !== current) return;
    shownSearch = seq;
    ui.count.textContent = `${n(r.total)} match${r.total === 1 ? "" : "es"}${r.total > r.hits.length ? `, first ${r.hits.length} shown` : ""} · ${r.ms.toFixed(1)} ms`;
    ui.results.replaceChildren(...r.hits.map((h) => resultItem(doc, h)));
  } catch (e) {
    ui.count.textContent = (e as Error).message;
  }
}

function resultItem(doc: number, h: Hit): HTMLLIElement {
  const a = typeLink(doc, h.id, h.name || "(anon)", h.base);
  a.append(el("span", { class: "id" }, `#${h.id}`));
  return el("li", {}, kindBadge(h.kind), a);
}

// ---- overview -----------------------------------------------------------------

function renderOverview(): void {
  const d = current !== null ? docs.get(current) : undefined;
  ui.overview.hidden = !d;
  if (!d) { ui.overview.replaceChildren(); return; }
  const kinds = el("div", { class: "kinds" });
  const max = Math.max(...d.kinds.map(([, c]) => c), 1);
  for (const [k, c] of d.kinds) {
    const b = el("button", { type: "button", class: "kindrow", title: `list ${k}` },
      el("span", { class: "kname" }, k), el("span", { class: "kbar" }, el("span", { class: `kfill k-${k.toLowerCase()}` })), el("span", { class: "kcount" }, n(c)));
    (b.querySelector(".kfill") as HTMLElement).style.width = `${(100 * c) / max}%`;
    b.addEventListener("click", () => { ui.kind.value = String(kindNames.indexOf(k)); ui.q.value = ""; runSearch(); });
    kinds.append(b);
  }
  const facts = el("dl", { class: "facts" },
    el("dt", {}, "role"), el("dd", {}, d.role === "kernel" ? "kernel (base BTF)" : `module, split on ${d.baseName}`),
    el("dt", {}, "types"), el("dd", {}, `${n(d.typeCount - d.startId)} (ids ${n(d.startId)}…${n(d.typeCount - 1)})`),
    el("dt", {}, "input"), el("dd", {}, `${bytesText(d.bytes)}, ${[...d.layers, d.container].join(" → ")}${d.sections.length ? ` (${d.sections.join(", ")})` : ""}`),
    el("dt", {}, "header"), el("dd", {}, `${d.header.hdrLen}-byte, ${d.header.endian}-endian, types ${bytesText(d.header.typeLen)}, strings ${bytesText(d.header.strLen)}`),
    el("dt", {}, "pointer size"), el("dd", {}, d.pointerSize ? `${d.pointerSize} bytes` : "unknown"),
    el("dt", {}, "loaded in"), el("dd", {}, `read ${d.ms.read.toFixed(0)} ms · parse ${d.ms.parse.toFixed(0)} ms · name index ${d.ms.names.toFixed(0)} ms · reference index ${d.ms.refs.toFixed(0)} ms`),
  );
  const types = `${n(d.typeCount - d.startId)} types`;
  const summary = el("summary", {}, el("h2", {}, d.name), el("span", { class: "sub" }, d.role === "kernel" ? `kernel · ${types}` : `module on ${d.baseName} · ${types}`));
  const det = el("details", {}, summary, el("div", { class: "ovgrid" }, facts, kinds));
  det.open = ui.type.hidden;
  ui.overview.replaceChildren(det, toolsPanel(d));
}

/** Module tools, wired to the operation registry: enabled only for operations present there. */
function toolsPanel(d: DocInfo): HTMLElement {
  const box = el("div", { class: "tools" });
  if (d.role !== "module") return box;
  const hasCheck = caps.ops.includes("check");
  const kernels = [...docs.values()].filter((k) => k.role === "kernel");
  const picks = kernels.map((k) => {
    const cb = el("input", { type: "checkbox", value: String(k.doc) });
    cb.checked = k.doc !== d.baseDoc;
    return el("label", { class: "pick" }, cb, ` ${k.name}`);
  });
  const run = el("button", { type: "button", class: "primary" }, "Check compatibility");
  run.disabled = !hasCheck;
  const out = el("div", { class: "report" });
  if (!hasCheck) out.append(el("p", { class: "note" }, "The check operation is not in this build of btfkit yet: this panel runs it, with the CLI's report, once it is in the registry."));
  run.addEventListener("click", async () => {
    const ks = picks.map((p) => p.querySelector("input") as HTMLInputElement).filter((c) => c.checked).map((c) => Number(c.value));
    out.replaceChildren(el("p", {}, "checking…"));
    try {
      const report = await rpc.call<{ results: Array<{ module: string; kernel: string; ok: boolean; problems: Array<Record<string, unknown>> }> }>({ op: "check", doc: d.doc, kernels: ks });
      out.replaceChildren(renderReport(report));
    } catch (e) {
      out.replaceChildren(el("p", { class: "error" }, (e as Error).message));
    }
  });
  const dl = el("button", { type: "button", class: "download" }, "Download distilled .ko");
  dl.disabled = d.distillKo !== null;
  dl.title = d.distillKo ?? `${d.name} with its BTF distilled onto a minimal .BTF.base, as \`btfkit distill X.ko --base V -o OUT.ko\``;
  const dlNote = el("p", { class: "note dl-note" }, d.distillKo ? `Download distilled .ko: ${d.distillKo}.` : "");
  dlNote.hidden = d.distillKo === null;
  dl.addEventListener("click", async () => {
    dl.disabled = true;
    try {
      const r = await rpc.call<Download>({ op: "download", doc: d.doc, what: "distill-ko" });
      const url = URL.createObjectURL(new Blob([r.bytes as BlobPart], { type: "application/octet-stream" }));
      const a = el("a", { href: url, download: r.name });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      const said = [`saved ${r.name} (${bytesText(r.bytes.length)})`, ...r.warnings.map((w) => `warning: ${w}`)];
      dlNote.textContent = said.join(" · ");
      dlNote.className = r.warnings.length ? "note dl-note warning" : "note dl-note";
      dlNote.hidden = false;
      setStatus(said.join(" · "));
    } catch (e) {
      setStatus((e as Error).message, true);
    } finally {
      dl.disabled = false;
    }
  });
  box.append(el("h3", {}, "Module tools"), el("div", { class: "picks" }, "Check against: ", ...picks, kernels.length ? null : el("em", {}, "open a kernel to check against")), el("div", { class: "buttons" }, run, dl), dlNote, out);
  return box;
}

function renderReport(report: { results: Array<{ module: string; kernel: string; ok: boolean; problems: Array<Record<string, unknown>> }> }): HTMLElement {
  const wrap = el("div", {});
  for (const r of report.results) {
    const head = el("p", { class: r.ok ? "ok" : "error" }, `${r.module} on ${r.kernel}: ${r.ok ? "compatible" : `${r.problems.length} problem${r.problems.length === 1 ? "" : "s"}`}`);
    wrap.append(head);
    if (r.problems.length) {
      const cols = ["type", "kind", "reason", "expected", "found", "path"];
      wrap.append(el("table", { class: "grid" },
        el("thead", {}, el("tr", {}, ...cols.map((c) => el("th", {}, c)))),
        el("tbody", {}, ...r.problems.map((p) => el("tr", {}, ...cols.map((c) => el("td", {}, p[c] === undefined || p[c] === null ? "" : String(p[c]))))))));
    }
  }
  return wrap;
}

// ---- type view ----------------------------------------------------------------

async function openType(doc: number, id: number): Promise<void> {
  if (!docs.has(doc)) return;
  if (current !== doc) { current = doc; refreshDocs(); renderOverview(); runSearch(); }
  try {
    const t = await rpc.call<TypeDetails>({ op: "type", doc, id, refLimit: 400 });
    renderType(t);
  } catch (e) {
    setStatus((e as Error).message, true);
  }
}

const ID_IN_RAW = /\[(\d+)\]|(type_id=)(\d+)/g;

/** bpftool raw text with its type ids turned into links. */
function rawWithLinks(doc: number, raw: string, typeCount: number): HTMLElement {
  const pre = el("pre", { class: "raw" });
  let last = 0;
  for (const m of raw.matchAll(ID_IN_RAW)) {
    const idText = m[1] ?? m[3];
    const id = Number(idText);
    const at = m.index ?? 0;
    const start = at + (m[1] !== undefined ? 1 : m[2].length);
    if (id <= 0 || id >= typeCount) continue;
    pre.append(raw.slice(last, start), typeLink(doc, id, idText));
    last = start + idText.length;
  }
  pre.append(raw.slice(last));
  return pre;
}

const BITS_PER_ROW = 64 * 8;
const MAX_ROWS = 256;

function offsetText(bit: number): string { return bit % 8 ? `${Math.floor(bit / 8)}:${bit % 8}` : String(bit / 8); }
function sizeText(bits: number): string { return bits % 8 ? `${bits} bit${bits === 1 ? "" : "s"}` : `${bits / 8}`; }
function bitsText(bits: number): string { return `${bits} bit${bits === 1 ? "" : "s"}`; }

/** The layout as cache-line rows (64 bytes each), pahole's view drawn: members, holes, padding. */
function layoutBar(t: TypeDetails): HTMLElement | null {
  if (!t.segments.length) return null;
  const box = el("div", { class: "layout" });
  if (t.kind === KIND.UNION) {
    const total = Math.max(1, (t.size ?? 0) * 8);
    for (const s of t.segments.slice(0, MAX_ROWS)) {
      const m = t.members[s.member!];
      const row = el("div", { class: "lrow" }, el("span", { class: "loff" }, ""), el("div", { class: "ltrack" }));
      const piece = el("div", { class: `lseg member c${s.member! % 8}`, title: `${m.name || "(anon)"}: ${m.typeLabel}, ${sizeText(s.bits)} bytes` }, m.name || `(${m.typeLabel})`);
      piece.style.left = "0";
      piece.style.width = `${Math.min(100, (100 * s.bits) / total)}%`;
      row.lastElementChild!.append(piece);
      box.append(row);
    }
    return box;
  }
  const sizeBits = Math.max((t.size ?? 0) * 8, ...t.segments.map((s) => s.startBit + s.bits));
  const rows = Math.ceil(sizeBits / BITS_PER_ROW);
  if (rows > MAX_ROWS) return el("p", { class: "note" }, `${n(sizeBits / 8)} bytes: too large to draw; see the table.`);
  const tracks: HTMLElement[] = [];
  for (let r = 0; r < rows; r++) {
    const track = el("div", { class: "ltrack" });
    // The row's own width: a last partial row is drawn to scale.
    const rowBits = Math.min(BITS_PER_ROW, sizeBits - r * BITS_PER_ROW);
    track.style.width = `${(100 * rowBits) / BITS_PER_ROW}%`;
    tracks.push(track);
    box.append(el("div", { class: "lrow" }, el("span", { class: "loff" }, String(r * 64)), el("div", { class: "lline" }, track)));
  }
  const place = (s: Segment, label: string, title: string, cls: string) => {
    let bit = s.startBit;
    const end = s.startBit + s.bits;
    while (bit < end) {
      const r = Math.floor(bit / BITS_PER_ROW);
      if (r >= rows) break;
      const rowStart = r * BITS_PER_ROW;
      const rowBits = Math.min(BITS_PER_ROW, sizeBits - rowStart);
      const pieceEnd = Math.min(end, rowStart + BITS_PER_ROW);
      const piece = el("div", { class: `lseg ${cls}`, title }, bit === s.startBit ? label : "");
      piece.style.left = `${(100 * (bit - rowStart)) / rowBits}%`;
      piece.style.width = `${(100 * (pieceEnd - bit)) / rowBits}%`;
      tracks[r].append(piece);
      bit = pieceEnd;
    }
  };
  for (const s of t.segments) {
    if (s.kind === "member") {
      const m = t.members[s.member!];
      place(s, m.name || `(${m.typeLabel})`, `${m.name || "(anon)"}: ${m.typeLabel} — offset ${offsetText(s.startBit)}, ${m.bitSize ? `${m.bitSize} bits` : `${sizeText(s.bits)} bytes`}`, `member c${s.member! % 8}${m.bitSize ? " bits" : ""}`);
    } else {
      place(s, "", `${s.kind === "hole" ? "hole" : "tail padding"}: ${sizeText(s.bits)}${s.bits % 8 ? "" : " bytes"} at ${offsetText(s.startBit)}`, s.kind);
    }
  }
  return box;
}

function membersTable(t: TypeDetails): HTMLElement | null {
  if (!t.members.length) return null;
  const rows: HTMLElement[] = [];
  const order = t.kind === KIND.UNION ? t.segments : t.segments;
  for (const s of order) {
    if (s.kind !== "member") {
      rows.push(el("tr", { class: s.kind }, el("td", { class: "num" }, offsetText(s.startBit)), el("td", { class: "num" }, sizeText(s.bits)), el("td", { colspan: "2" }, s.kind === "hole" ? `/* hole: ${sizeText(s.bits)}${s.bits % 8 ? "" : " bytes"} */` : `/* tail padding: ${sizeText(s.bits)}${s.bits % 8 ? "" : " bytes"} */`)));
      continue;
    }
    const m = t.members[s.member!];
    rows.push(el("tr", {},
      el("td", { class: "num" }, offsetText(m.bitOffset)),
      el("td", { class: "num" }, m.bitSize ? bitsText(m.bitSize) : m.byteSize >= 0 ? String(m.byteSize) : "?"),
      el("td", { class: "mname" }, el("span", { class: `swatch c${s.member! % 8}` }), m.name || "(anon)"),
      el("td", {}, typeLink(t.doc, m.type, m.typeLabel))));
  }
  return el("table", { class: "grid members" }, el("thead", {}, el("tr", {}, el("th", {}, "offset"), el("th", {}, "size"), el("th", {}, t.kind === KIND.DATASEC ? "variable" : "member"), el("th", {}, "type"))), el("tbody", {}, ...rows));
}

function renderType(t: TypeDetails): void {
  const d = docs.get(t.doc)!;
  const parts: HTMLElement[] = [];
  const main: HTMLElement[] = [];
  const side: HTMLElement[] = [];
  const title = el("h2", {}, kindBadge(t.kind), " ", t.label, el("span", { class: "id" }, `#${t.id}`));
  const meta: string[] = [];
  if (t.size !== null) meta.push(`size ${n(t.size)} byte${t.size === 1 ? "" : "s"}`);
  else if (t.resolvedSize >= 0 && t.kind !== KIND.FUNC && t.kind !== KIND.FUNC_PROTO) meta.push(`resolves to ${n(t.resolvedSize)} bytes`);
  if (t.members.length) meta.push(`${t.members.length} ${t.kind === KIND.DATASEC ? "variables" : "members"}`);
  const holes = t.segments.filter((s) => s.kind === "hole");
  if (holes.length) meta.push(`${holes.length} hole${holes.length === 1 ? "" : "s"} (${n(holes.reduce((a, s) => a + s.bits, 0) / 8)} bytes)`);
  if (t.inBase) meta.push(`from ${d.baseName}`);
  parts.push(title, el("p", { class: "meta" }, meta.join(" · ")));
  if (t.target) parts.push(el("p", {}, "→ ", typeLink(t.doc, t.target.id, t.target.label)));

  const bar = layoutBar(t);
  const table = membersTable(t);
  if (bar || table) main.push(el("section", {}, el("h3", {}, "Layout"), bar, table));
  if (t.values.length) {
    main.push(el("section", {}, el("h3", {}, "Values"), el("table", { class: "grid" }, el("tbody", {}, ...t.values.map((v) => el("tr", {}, el("td", {}, v.name), el("td", { class: "num" }, v.value)))))));
  }
  if (t.params.length) {
    main.push(el("section", {}, el("h3", {}, "Parameters"), el("ol", { class: "params" }, ...t.params.map((p) => el("li", {}, typeLink(t.doc, p.type, p.typeLabel), " ", p.name)))));
  }
  (main.length ? side : main).push(el("section", {}, el("h3", {}, "Raw record ", el("small", {}, "bpftool format raw")), rawWithLinks(t.doc, t.raw, d.typeCount)));
  side.push(el("section", {}, el("h3", {}, "C definition ", el("small", {}, "with its dependencies")),
    t.c !== null ? el("pre", { class: "c" }, t.c) : el("p", { class: "note" }, t.cNote)));
  const refs = el("ul", { class: "refs" }, ...t.refs.items.map((h) => el("li", {}, kindBadge(h.kind), typeLink(t.doc, h.id, h.name, h.base), h.via ? el("span", { class: "via" }, `via ${h.via}`) : null)));
  const usedHead = `${n(t.refs.total)} type${t.refs.total === 1 ? "" : "s"}${t.refs.total > t.refs.items.length ? `, first ${t.refs.items.length} shown` : ""} · ${n(t.refs.direct)} direct referrer${t.refs.direct === 1 ? "" : "s"}`;
  side.push(el("section", {}, el("h3", {}, "Used by ", el("small", {}, usedHead)), t.refs.total ? refs : el("p", { class: "note" }, "No named type uses this type.")));
  parts.push(el("div", { class: "tgrid" }, el("div", { class: "tmain" }, ...main), el("div", { class: "tside" }, ...side)));
  ui.type.replaceChildren(...parts);
  ui.type.hidden = false;
  const det = ui.overview.querySelector("details");
  if (det) det.open = false;
  ui.type.scrollTop = 0;
  document.title = `${t.label} — btfkit explorer`;
}

// ---- navigation & events --------------------------------------------------------

function onHash(): void {
  const p = new URLSearchParams(location.hash.slice(1));
  const doc = Number(p.get("d"));
  const id = Number(p.get("t"));
  if (Number.isInteger(doc) && Number.isInteger(id) && id > 0 && docs.has(doc)) void openType(doc, id);
}

function wire(): void {
  ui.file.addEventListener("change", () => {
    const files = [...(ui.file.files ?? [])];
    ui.file.value = "";
    if (files.length) void openFiles(files);
  });
  ui.doc.addEventListener("change", () => selectDoc(Number(ui.doc.value)));
  ui.closeDoc.addEventListener("click", () => void closeCurrent());
  ui.q.addEventListener("input", () => void runSearch());
  ui.q.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") {
      const a = ui.results.querySelector("a");
      if (a) location.hash = a.getAttribute("href")!.slice(1);
    }
  });
  ui.kind.addEventListener("change", () => void runSearch());
  ui.scope.addEventListener("change", () => void runSearch());
  window.addEventListener("hashchange", onHash);
  let depth = 0;
  window.addEventListener("dragenter", (ev) => { ev.preventDefault(); depth++; ui.dropmask.hidden = false; });
  window.addEventListener("dragleave", () => { if (--depth <= 0) { depth = 0; ui.dropmask.hidden = true; } });
  window.addEventListener("dragover", (ev) => ev.preventDefault());
  window.addEventListener("drop", (ev) => {
    ev.preventDefault();
    depth = 0;
    ui.dropmask.hidden = true;
    const files = [...(ev.dataTransfer?.files ?? [])];
    if (files.length) void openFiles(files);
  });
}

async function start(): Promise<void> {
  wire();
  try {
    const c = await rpc.call<Caps>({ op: "caps" });
    caps = c;
    kindNames = c.kinds;
    ui.kind.append(...kindNames.slice(1).map((k, i) => el("option", { value: String(i + 1) }, k)));
    // Navigation start to a working worker (script, worker start, wasm compile): scripts/sizes.mjs reports it.
    document.documentElement.dataset.readyMs = performance.now().toFixed(1);
    document.documentElement.dataset.ready = "1";
  } catch (e) {
    setStatus(`the worker did not start: ${(e as Error).message}`, true);
  }
}

void start();
