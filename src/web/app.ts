// The explorer page: UI only. All BTF work happens in the worker (worker.ts),
// whose source is embedded in this script and started from a blob: URL, so
// the page runs the same from file:// and from any static server. The DOM is
// built with createElement/textContent only: names from a BTF file are data,
// never markup.

import WORKER_SOURCE from "virtual:explorer-worker";
import type { Envelope, Request, Reply, Caps, DocInfo, SearchReply, TypeDetails, Hit, Segment, OpenMode, Download, ChangesReply, CompareReply, ChangeItem, CoreReply, CoreRow } from "./protocol.js";
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
    el("option", { value: String(d.doc) }, d.role === "kernel" ? `${d.name} — kernel, ${n(d.typeCount - d.startId)} types`
      : d.role === "object" ? `${d.name} — BPF object, ${n(d.relocations ?? 0)} CO-RE relocations`
      : `${d.name} — module on ${d.baseName}, ${n(d.typeCount - d.startId)} types`)));
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
    el("dt", {}, "role"), el("dd", {}, d.role === "kernel" ? "kernel (base BTF)" : d.role === "object" ? "BPF object (its own .BTF; CO-RE relocations below)" : `module, split on ${d.baseName}`),
    el("dt", {}, "types"), el("dd", {}, `${n(d.typeCount - d.startId)} (ids ${n(d.startId)}…${n(d.typeCount - 1)})`),
    el("dt", {}, "input"), el("dd", {}, `${bytesText(d.bytes)}, ${[...d.layers, d.container].join(" → ")}${d.sections.length ? ` (${d.sections.join(", ")})` : ""}`),
    el("dt", {}, "header"), el("dd", {}, `${d.header.hdrLen}-byte, ${d.header.endian}-endian, types ${bytesText(d.header.typeLen)}, strings ${bytesText(d.header.strLen)}`),
    el("dt", {}, "pointer size"), el("dd", {}, d.pointerSize ? `${d.pointerSize} bytes` : "unknown"),
    el("dt", {}, "loaded in"), el("dd", {}, `read ${d.ms.read.toFixed(0)} ms · parse ${d.ms.parse.toFixed(0)} ms · name index ${d.ms.names.toFixed(0)} ms · reference index ${d.ms.refs.toFixed(0)} ms`),
  );
  const types = `${n(d.typeCount - d.startId)} types`;
  const sub = d.role === "kernel" ? `kernel · ${types}` : d.role === "object" ? `BPF object · ${types} · ${n(d.relocations ?? 0)} CO-RE relocations` : `module on ${d.baseName} · ${types}`;
  const summary = el("summary", {}, el("h2", {}, d.name), el("span", { class: "sub" }, sub));
  const det = el("details", {}, summary, el("div", { class: "ovgrid" }, facts, kinds));
  det.open = ui.type.hidden;
  ui.overview.replaceChildren(det, changesPanel(d), toolsPanel(d));
}

// ---- comparing documents ----------------------------------------------------------

/** A select of the open documents, `selected` chosen. */
function docSelect(cls: string, selected: number | undefined, except?: number): HTMLSelectElement {
  const sel = el("select", { class: cls });
  for (const d of docs.values()) {
    if (d.doc === except) continue;
    const o = el("option", { value: String(d.doc) }, d.name);
    if (d.doc === selected) o.selected = true;
    sel.append(o);
  }
  return sel;
}

const CHANGE_SHOWN = 500;

/** "Changes between A and B": counts per kind, then the keys, filtered by name and status. */
function changesPanel(d: DocInfo): HTMLElement {
  const box = el("div", { class: "changes" });
  if (docs.size < 2) return box;
  const other = [...docs.values()].find((x) => x.doc !== d.doc && x.role === d.role) ?? [...docs.values()].find((x) => x.doc !== d.doc)!;
  const selA = docSelect("from", other.doc), selB = docSelect("to", d.doc);
  const go = el("button", { type: "button", class: "primary" }, "Show changes");
  const out = el("div", { class: "changes-out" });
  go.addEventListener("click", async () => {
    out.replaceChildren(el("p", {}, "comparing…"));
    try {
      const r = await rpc.call<ChangesReply>({ op: "changes", a: Number(selA.value), b: Number(selB.value) });
      out.replaceChildren(renderChanges(r));
    } catch (e) {
      out.replaceChildren(el("p", { class: "error" }, (e as Error).message));
    }
  });
  box.append(el("h3", {}, "Changes between documents"), el("div", { class: "picks" }, "from ", selA, " to ", selB, " ", go), out);
  return box;
}

function renderChanges(r: ChangesReply): HTMLElement {
  const a = docs.get(r.a)?.name ?? "A", b = docs.get(r.b)?.name ?? "B";
  const wrap = el("div", {});
  wrap.append(el("p", { class: "meta" }, `${a} → ${b}: ${n(r.total.added)} added, ${n(r.total.removed)} removed, ${n(r.total.changed)} changed, ${n(r.total.unchanged)} unchanged · ${r.ms.toFixed(0)} ms`));
  if (r.counts.length) {
    wrap.append(el("table", { class: "grid counts" },
      el("thead", {}, el("tr", {}, el("th", {}, "kind"), el("th", {}, "added"), el("th", {}, "removed"), el("th", {}, "changed"))),
      el("tbody", {}, ...r.counts.map((c) => el("tr", {}, el("td", {}, c.kind), el("td", { class: "num" }, n(c.added)), el("td", { class: "num" }, n(c.removed)), el("td", { class: "num" }, n(c.changed)))))));
  }
  const q = el("input", { type: "search", class: "change-filter", placeholder: "filter by name", spellcheck: "false" });
  const st = el("select", { class: "change-status" }, el("option", { value: "" }, "all"), el("option", { value: "changed" }, "changed"), el("option", { value: "added" }, "added"), el("option", { value: "removed" }, "removed"));
  const count = el("div", { class: "count" });
  const list = el("ol", { class: "change-list" });
  const item = (c: ChangeItem) => {
    const doc = c.status === "removed" ? r.a : r.b;
    const li = el("li", { class: `chg-${c.status}` }, el("span", { class: "mark" }, c.status === "added" ? "+" : c.status === "removed" ? "−" : "~"), kindBadge(kindNames.indexOf(c.kind)), typeLink(doc, c.id, c.name));
    if (c.status === "changed") {
      const cmp = el("a", { href: typeHref(r.b, c.id), class: "cmp-link", title: `compare with ${a}` }, "compare");
      cmp.addEventListener("click", () => { pendingCompare = { doc: r.b, id: c.id, other: r.a }; });
      li.append(" ", cmp);
    }
    return li;
  };
  const refresh = () => {
    const needle = q.value.toLowerCase();
    const want = st.value;
    const hits = r.items.filter((c) => (!want || c.status === want) && (!needle || c.name.toLowerCase().includes(needle)));
    count.textContent = `${n(hits.length)} of ${n(r.items.length)}${hits.length > CHANGE_SHOWN ? `, first ${CHANGE_SHOWN} shown` : ""}`;
    list.replaceChildren(...hits.slice(0, CHANGE_SHOWN).map(item));
  };
  q.addEventListener("input", refresh);
  st.addEventListener("change", refresh);
  refresh();
  wrap.append(el("div", { class: "picks" }, q, " ", st), count, list);
  return wrap;
}

/** A comparison to run when the type view that a "compare" link opens arrives. */
let pendingCompare: { doc: number; id: number; other: number } | null = null;

const KEYED_KINDS = new Set([4, 5, 6, 7, 8, 12, 19]);

/** "Compare with…" on a type view: the other document, then the layouts side by side. */
function comparePanel(t: TypeDetails): HTMLElement | null {
  if (docs.size < 2 || !KEYED_KINDS.has(t.kind) || !t.name) return null;
  const others = [...docs.values()].filter((x) => x.doc !== t.doc);
  const pre = pendingCompare && pendingCompare.doc === t.doc && pendingCompare.id === t.id ? pendingCompare.other : undefined;
  pendingCompare = null;
  const sel = docSelect("compare-with", pre ?? others[0].doc, t.doc);
  // Which side is old: the other document by default (a newer kernel's type against an older one).
  const older = el("input", { type: "checkbox", class: "other-is-old" });
  older.checked = true;
  const go = el("button", { type: "button" }, "Compare");
  const out = el("div", { class: "compare-out" });
  const run = async () => {
    out.replaceChildren(el("p", {}, "comparing…"));
    try {
      const r = await rpc.call<CompareReply>({ op: "compare", doc: t.doc, id: t.id, other: Number(sel.value), otherIsOld: older.checked });
      out.replaceChildren(renderCompare(r));
    } catch (e) {
      out.replaceChildren(el("p", { class: "error" }, (e as Error).message));
    }
  };
  go.addEventListener("click", () => void run());
  if (pre !== undefined) void run();
  return el("section", { class: "compare" }, el("h3", {}, "Compare with… ", sel, " ", el("label", { class: "older" }, older, " older"), " ", go), out);
}

const MARKS: Record<string, string> = { same: "", added: "+", removed: "−", moved: "~", resized: "!", retyped: "!" };

function renderCompare(r: CompareReply): HTMLElement {
  const a = docs.get(r.old.doc)?.name ?? "old", b = docs.get(r.new.doc)?.name ?? "new";
  const label = `${r.kind.toLowerCase()} ${r.name}`;
  if (r.status === "only-old") return el("p", { class: "chg-removed" }, `${label} is in ${a} (`, typeLink(r.old.doc, r.old.id, `#${r.old.id}`), `), not in ${b}.`);
  if (r.status === "only-new") return el("p", { class: "chg-added" }, `${label} is new in ${b} (`, typeLink(r.new.doc, r.new.id, `#${r.new.id}`), `), not in ${a}.`);
  if (r.status === "same") return el("p", { class: "ok" }, `${label} has the same definition in ${a} (`, typeLink(r.old.doc, r.old.id, `#${r.old.id}`), `) and ${b} (`, typeLink(r.new.doc, r.new.id, `#${r.new.id}`), ").");
  const c = r.change!;
  const head = el("p", { class: "meta" }, `${label} changed from ${a} (`, typeLink(r.old.doc, r.old.id, `#${r.old.id}`), `) to ${b} (`, typeLink(r.new.doc, r.new.id, `#${r.new.id}`), ")",
    c.size ? ` · size ${c.size[0]} → ${c.size[1]}` : "", c.oldCount > 1 || c.newCount > 1 ? ` · ${c.oldCount} → ${c.newCount} definitions, compared as sets` : "");
  const wrap = el("div", {}, head);
  if (c.layout) {
    const off = (s?: { offset: number; bitfieldSize?: number }) => (s ? offsetText(s.offset) : "");
    const size = (s?: { size: number; bitfieldSize?: number }) => (s ? (s.bitfieldSize ? bitsText(s.bitfieldSize) : s.size >= 0 ? String(s.size) : "?") : "");
    // New layout order; removed members where they were.
    const kept = c.layout.filter((m) => m.new).sort((x, y) => x.new!.offset - y.new!.offset);
    const gone = c.layout.filter((m) => !m.new).sort((x, y) => x.old!.offset - y.old!.offset);
    const rows: typeof c.layout = [];
    let g = 0;
    for (const m of kept) { while (g < gone.length && gone[g].old!.offset < m.new!.offset) rows.push(gone[g++]); rows.push(m); }
    while (g < gone.length) rows.push(gone[g++]);
    wrap.append(el("table", { class: "grid members compare-table" },
      el("thead", {}, el("tr", {}, el("th", {}, ""), el("th", { colspan: "3" }, a), el("th", {}, "member"), el("th", { colspan: "3" }, b))),
      el("thead", {}, el("tr", {}, el("th", {}, ""), el("th", {}, "offset"), el("th", {}, "size"), el("th", {}, "type"), el("th", {}, ""), el("th", {}, "offset"), el("th", {}, "size"), el("th", {}, "type"))),
      el("tbody", {}, ...rows.map((m) => el("tr", { class: `chg-${m.change}`, title: m.change + (m.moved ? " and moved" : "") },
        el("td", { class: "mark" }, MARKS[m.change] ?? ""),
        el("td", { class: "num" }, off(m.old)), el("td", { class: "num" }, size(m.old)), el("td", {}, m.old?.type ?? ""),
        el("td", { class: "mname" }, m.name || "(anon)"),
        el("td", { class: "num" }, off(m.new)), el("td", { class: "num" }, size(m.new)), el("td", {}, m.new?.type ?? ""))))));
  }
  if (c.values) {
    wrap.append(el("table", { class: "grid" }, el("tbody", {}, ...c.values.map((v) => el("tr", { class: `chg-${v.change}` },
      el("td", { class: "mark" }, v.change === "added" ? "+" : v.change === "removed" ? "−" : "~"), el("td", {}, v.name),
      el("td", { class: "num" }, v.old === undefined ? "" : String(v.old)), el("td", { class: "num" }, v.new === undefined ? "" : String(v.new)))))));
  }
  const lines: string[] = [];
  if (c.signed) lines.push(`signedness: ${c.signed[0] ? "signed" : "unsigned"} → ${c.signed[1] ? "signed" : "unsigned"}`);
  if (c.linkage) lines.push(`linkage: ${c.linkage[0]} → ${c.linkage[1]}`);
  if (c.return) lines.push(`return: ${c.return[0]} → ${c.return[1]}`);
  for (const p of c.params ?? []) lines.push(`parameter ${p.name || "(unnamed)"}: ${p.change}${p.old ? ` ${p.old.type} (#${p.old.index})` : ""}${p.new ? ` → ${p.new.type} (#${p.new.index})` : ""}`);
  if (c.type) lines.push(`target: ${c.type[0]} → ${c.type[1]}`);
  if (c.fwd) lines.push(`declared as ${c.fwd[0]} → ${c.fwd[1]}`);
  if (lines.length) wrap.append(el("ul", { class: "compare-notes" }, ...lines.map((l) => el("li", {}, l))));
  if (!c.layout && !c.values && !lines.length) wrap.append(el("p", { class: "note" }, "A type it contains inline (an anonymous struct, union or enum, or a prototype) changed."));
  return wrap;
}

/** Module tools, wired to the operation registry: enabled only for operations present there. */
function toolsPanel(d: DocInfo): HTMLElement {
  const box = el("div", { class: "tools" });
  if (d.role === "object") return corePanel(d, box);
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

/**
 * A BPF object's CO-RE relocations against the chosen kernels (each with the
 * modules opened on it): the registry's "core" operation, the report of
 * `btfkit core --json`.
 */
function corePanel(d: DocInfo, box: HTMLElement): HTMLElement {
  const kernels = [...docs.values()].filter((k) => k.role === "kernel");
  const picks = kernels.map((k) => {
    const cb = el("input", { type: "checkbox", value: String(k.doc) });
    cb.checked = true;
    const mods = [...docs.values()].filter((m) => m.baseDoc === k.doc).length;
    return el("label", { class: "pick" }, cb, ` ${k.name}${mods ? ` (+${mods} module${mods === 1 ? "" : "s"})` : ""}`);
  });
  const has = caps.ops.includes("core");
  const run = el("button", { type: "button", class: "primary", id: "core-run" }, "Resolve relocations");
  run.disabled = !has || kernels.length === 0;
  const out = el("div", { class: "report core-report" });
  if (!has) out.append(el("p", { class: "note" }, "CO-RE relocation is not in this build of btfkit."));
  const go = async () => {
    const ks = picks.map((p) => p.querySelector("input") as HTMLInputElement).filter((c) => c.checked).map((c) => Number(c.value));
    if (!ks.length) { out.replaceChildren(el("p", { class: "note" }, "choose a kernel")); return; }
    out.replaceChildren(el("p", {}, "resolving…"));
    try {
      out.replaceChildren(renderCore(d.doc, await rpc.call<CoreReply>({ op: "core", doc: d.doc, kernels: ks })));
    } catch (e) {
      out.replaceChildren(el("p", { class: "error" }, (e as Error).message));
    }
  };
  run.addEventListener("click", () => void go());
  box.append(el("h3", {}, "CO-RE relocations"),
    el("div", { class: "picks" }, "Resolve on: ", ...picks, kernels.length ? null : el("em", {}, "open a kernel (and its modules) to resolve against")),
    el("div", { class: "buttons" }, run), out);
  if (has && kernels.length) void go();
  return box;
}

/** What became of a record: refused by libbpf (or its instruction could not be patched), poisoned, or resolved. */
const coreResult = (x: CoreRow) => (x.status === "error" || x.patch === "error" ? "error" : x.patch === "poison" ? "poisoned" : "ok");
/** Failures first: errors, then poisoned instructions, then the rest, in file order. */
const coreRank = (x: CoreRow) => ({ error: 0, poisoned: 1, ok: 2 })[coreResult(x)];

function renderCore(objDoc: number, report: CoreReply): HTMLElement {
  const wrap = el("div", {});
  for (const r of report.results) {
    const verdict = !r.ok ? "refused: libbpf will not load it" : r.clean ? "loads" : "loads, with poisoned instructions (they fail verification if reached)";
    const res = el("section", { class: "core-result", "data-kernel": r.kernel });
    res.append(el("h4", { class: !r.ok ? "error" : r.clean ? "ok" : "warn" }, `${r.object} on ${r.kernel}: ${verdict}`));
    res.append(el("ul", { class: "core-secs" }, ...r.sections.map((s) => el("li", { class: s.errors ? "error" : s.poisoned ? "warn" : "ok", "data-sec": s.name },
      `${s.name}: ${s.records} relocation${s.records === 1 ? "" : "s"}, ${s.errors ? `refused (${s.errors} failing)` : s.poisoned ? `loads, ${s.poisoned} poisoned` : "loads"}`))));
    const rows = r.records.map((x, i) => ({ x, i })).sort((a, b) => coreRank(a.x) - coreRank(b.x) || a.i - b.i);
    const cols = ["section", "insn", "kind", "local", "result", "value", "target", "reason"];
    res.append(el("table", { class: "grid core-records" },
      el("thead", {}, el("tr", {}, ...cols.map((c) => el("th", {}, c)))),
      el("tbody", {}, ...rows.map(({ x }) => {
        const result = coreResult(x);
        const targetDoc = x.targBtf !== null ? r.targetDocs[x.targBtf] : undefined;
        const local = `${x.localKind} ${x.localName}${x.localAccess}`;
        const target = targetDoc !== undefined && x.targId !== null
          ? typeLink(targetDoc, x.targId, `${x.targBtf} [${x.targId}]${x.targAccess}`)
          : el("span", {}, x.cands === null ? "–" : result === "error" ? `${x.cands} candidate${x.cands === 1 ? "" : "s"}` : x.cands === 0 ? "no candidate" : `no match among ${x.cands}`, " · ", typeLink(objDoc, x.localId, "local type"));
        return el("tr", { class: `core-${result}` },
          el("td", {}, x.sec), el("td", { class: "num" }, String(x.insnOff / 8)), el("td", {}, x.kind), el("td", {}, local),
          el("td", { class: result === "ok" ? "ok" : result === "error" ? "error" : "warn" }, result),
          el("td", {}, x.origVal !== null ? `${x.origVal} → ${x.newVal}` : ""), el("td", {}, target), el("td", {}, x.reason ?? ""));
      }))));
    wrap.append(res);
  }
  return wrap;
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
  // Full width: two layouts side by side need the room.
  const cmp = comparePanel(t);
  if (cmp) parts.push(cmp);
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
