// btfkit diff OLD NEW [--base B | --old-base B --new-base B] [--type NAME]... [--json]
// btfkit diff K1 K2 K3... --type NAME [--json]       (history of one type)
//
// What changed between two BTFs, type by type (issue 15): keyed types added,
// removed or changed, each changed one shown as pahole prints it with its
// members marked. The comparison is the core's (assembly/diff/); this file
// loads, prints and picks the exit code. Exit codes as diff(1): 0 no
// difference, 1 differences, 2 bad input or usage.

import { VerbSpec, parseArgs, str, multi } from "./args.js";
import { loadFile, validateLevel, out } from "./io.js";
import { BtfError } from "../errors.js";
import { Btf, KIND_NAMES, ValidateLevel } from "../btf.js";
import { diff, diffHistory, diffJsonReplacer, parseTypeSpec, ChangedType, DiffResult, DiffKey, LayoutRow, MemberSide } from "../diff.js";

export const spec: VerbSpec = {
  usage: "btfkit diff OLD NEW [--base B | --old-base B --new-base B] [--type NAME]... [--json] [--validate libbpf|kernel]\n       btfkit diff K1 K2 K3... --type NAME [--base B] [--json]",
  summary: "what changed between two BTFs, type by type (added, removed, changed); one type across kernels",
  options: { base: "string", "old-base": "string", "new-base": "string", type: "multi", json: "bool", history: "bool", validate: "string" },
  minPositionals: 2,
};

export async function run(argv: string[]): Promise<number> {
  const { positionals, opts } = parseArgs(argv, spec);
  const level = validateLevel(opts.validate);
  const types = multi(opts.type);
  types.forEach(parseTypeSpec); // a bad --type is a usage error before any file is read
  const history = positionals.length > 2 || opts.history === true;
  const basePath = str(opts.base);
  const oldBasePath = str(opts["old-base"]) ?? basePath;
  const newBasePath = str(opts["new-base"]) ?? basePath;
  if (history) {
    if (types.length !== 1) throw new BtfError("USAGE", `diff of ${positionals.length} files is a history of one type: give exactly one --type NAME\nusage: ${spec.usage}`);
    if (opts["old-base"] !== undefined || opts["new-base"] !== undefined) throw new BtfError("USAGE", "a history takes --base (for every file), not --old-base/--new-base");
    const base = basePath ? await loadFile(basePath, { validate: level }) : undefined;
    const btfs: Btf[] = [];
    for (const p of positionals) btfs.push(await loadFile(p, { base, validate: level }));
    return printHistory(positionals, btfs, types[0], opts.json === true);
  }
  const cache = new Map<string, Btf>();
  const loadBase = async (p: string | undefined, lvl: ValidateLevel) => {
    if (!p) return undefined;
    let b = cache.get(p);
    if (!b) cache.set(p, (b = await loadFile(p, { validate: lvl })));
    return b;
  };
  const oldBtf = await loadFile(positionals[0], { base: await loadBase(oldBasePath, level), validate: level });
  const newBtf = await loadFile(positionals[1], { base: await loadBase(newBasePath, level), validate: level });
  const r = diff(oldBtf, newBtf, { types });
  if (opts.json) out(JSON.stringify(jsonForm(r), diffJsonReplacer, 2) + "\n");
  else out(textForm(positionals[0], positionals[1], r, oldBtf.isSplit || newBtf.isSplit));
  return r.added.length + r.removed.length + r.changed.length > 0 ? 1 : 0;
}

/** The JSON of issue 15: the layout view (unchanged members too) stays in the API. */
function jsonForm(r: DiffResult): unknown {
  return { added: r.added.map(bareKey), removed: r.removed.map(bareKey), changed: r.changed.map(withoutLayout), keys: r.keys };
}
const bareKey = (k: DiffKey) => ({ kind: k.kind, name: k.name });
const withoutLayout = ({ layout: _layout, ...rest }: ChangedType) => rest;

const C_KIND: Record<string, string> = { STRUCT: "struct", UNION: "union", ENUM: "enum", ENUM64: "enum", TYPEDEF: "typedef", FUNC: "func", FWD: "fwd" };
const keyLabel = (k: DiffKey) => `${C_KIND[k.kind] ?? k.kind.toLowerCase()} ${k.name}`;

function summary(r: DiffResult): string[] {
  const rows = new Map<string, [number, number, number]>();
  const bump = (k: DiffKey, i: number) => { const row = rows.get(k.kind) ?? [0, 0, 0]; row[i]++; rows.set(k.kind, row); };
  r.added.forEach((k) => bump(k, 0));
  r.removed.forEach((k) => bump(k, 1));
  r.changed.forEach((k) => bump(k, 2));
  const lines = [`  ${"kind".padEnd(9)} ${"added".padStart(7)} ${"removed".padStart(7)} ${"changed".padStart(7)}`];
  for (const kind of KIND_NAMES) {
    const row = rows.get(kind);
    if (row) lines.push(`  ${kind.padEnd(9)} ${String(row[0]).padStart(7)} ${String(row[1]).padStart(7)} ${String(row[2]).padStart(7)}`);
  }
  lines.push(`  ${"total".padEnd(9)} ${String(r.added.length).padStart(7)} ${String(r.removed.length).padStart(7)} ${String(r.changed.length).padStart(7)}   (${r.keys.unchanged} unchanged of ${r.keys.old} -> ${r.keys.new} keyed types)`);
  return lines;
}

function textForm(oldName: string, newName: string, r: DiffResult, split: boolean): string {
  const lines: string[] = [`--- ${oldName}`, `+++ ${newName}${split ? " (own types of each module)" : ""}`, ...summary(r), ""];
  for (const k of r.added) lines.push(`+ ${keyLabel(k)}`);
  for (const k of r.removed) lines.push(`- ${keyLabel(k)}`);
  if (r.added.length || r.removed.length) lines.push("");
  for (const c of r.changed) lines.push(...changedText(c), "");
  return lines.join("\n") + "\n";
}

/** pahole's member column: `/* offset size *\/`, bitfields as `offset:bit size`. */
function where(s: MemberSide): string {
  const byte = Math.floor(s.offset / 8);
  const bit = s.offset % 8;
  return s.bitfieldSize ? `${byte}:${bit} ${s.bitfieldSize}b` : `${byte} ${s.size}`;
}

const MARK: Record<string, string> = { same: " ", added: "+", removed: "-", moved: "~", resized: "!", retyped: "!" };

function memberLine(m: LayoutRow): string {
  const side = m.new ?? m.old!;
  const decl = `${side.type.padEnd(31)} ${m.name || "(anon)"}${side.bitfieldSize ? `:${side.bitfieldSize}` : ""};`;
  let note: string;
  if (m.old && m.new && (m.change !== "same")) {
    note = `/* ${where(m.old)} -> ${where(m.new)} */`;
    if (m.old.type !== m.new.type) note += ` was ${m.old.type}`;
  } else note = `/* ${where(side)} */`;
  return `${MARK[m.change] ?? "?"}\t${decl.padEnd(48)} ${note}`;
}

function changedText(c: ChangedType): string[] {
  const head = `~ ${keyLabel(c)}`;
  const sets = c.oldCount > 1 || c.newCount > 1 ? ` [${c.oldCount} -> ${c.newCount} definitions, compared as sets; showing [${c.oldId}] -> [${c.newId}]]` : "";
  switch (c.kind) {
    case "STRUCT": case "UNION": {
      const lines = [`${head}${c.size ? ` (size ${c.size[0]} -> ${c.size[1]})` : ""}${sets}`];
      lines.push(`${C_KIND[c.kind]} ${c.name} {`);
      // New layout order, removed members where they used to be.
      const rows = [...(c.layout ?? [])];
      const kept = rows.filter((m) => m.new).sort((a, b) => a.new!.offset - b.new!.offset);
      const gone = rows.filter((m) => !m.new);
      const merged: LayoutRow[] = [];
      let g = 0;
      gone.sort((a, b) => a.old!.offset - b.old!.offset);
      for (const m of kept) {
        while (g < gone.length && gone[g].old!.offset < m.new!.offset) merged.push(gone[g++]);
        merged.push(m);
      }
      while (g < gone.length) merged.push(gone[g++]);
      for (const m of merged) lines.push(memberLine(m));
      lines.push("};");
      return lines;
    }
    case "ENUM": case "ENUM64": {
      const lines = [`${head}${c.size ? ` (size ${c.size[0]} -> ${c.size[1]})` : ""}${c.signed ? ` (${c.signed[0] ? "signed" : "unsigned"} -> ${c.signed[1] ? "signed" : "unsigned"})` : ""}${sets}`];
      for (const v of c.values ?? []) {
        if (v.change === "added") lines.push(`+\t${v.name} = ${v.new}`);
        else if (v.change === "removed") lines.push(`-\t${v.name} = ${v.old}`);
        else lines.push(`~\t${v.name} = ${v.old} -> ${v.new}`);
      }
      return lines;
    }
    case "FUNC": {
      const lines = [`${head}${c.linkage ? ` (${c.linkage[0]} -> ${c.linkage[1]})` : ""}${sets}`];
      if (c.return) lines.push(`!\treturn ${c.return[0]} -> ${c.return[1]}`);
      for (const p of c.params ?? []) {
        const n = p.name || "(unnamed)";
        if (p.change === "added") lines.push(`+\tparam ${p.new!.index}: ${p.new!.type} ${n}`);
        else if (p.change === "removed") lines.push(`-\tparam ${p.old!.index}: ${p.old!.type} ${n}`);
        else if (p.change === "moved") lines.push(`~\tparam ${n}: position ${p.old!.index} -> ${p.new!.index}`);
        else lines.push(`!\tparam ${p.new!.index} ${n}: ${p.old!.type} -> ${p.new!.type}`);
      }
      if (lines.length === 1) lines.push(`\t(a parameter's or the return type's definition changed inline)`);
      return lines;
    }
    case "TYPEDEF":
      return [`${head}: ${c.type ? `${c.type[0]} -> ${c.type[1]}` : "target changed"}${sets}`];
    case "FWD":
      return [`${head}: ${c.fwd ? `${c.fwd[0]} -> ${c.fwd[1]}` : "changed"}${sets}`];
    default:
      return [head + sets];
  }
}

function printHistory(files: string[], btfs: Btf[], type: string, json: boolean): number {
  const h = diffHistory(btfs, type);
  if (json) {
    out(JSON.stringify({
      type,
      files: files.map((f, i) => ({ file: f, group: h.groups[i] })),
      steps: h.steps.map((s) => ({ from: files[s.from], to: files[s.to], added: s.result.added.map(bareKey), removed: s.result.removed.map(bareKey), changed: s.result.changed.map(withoutLayout) })),
    }, diffJsonReplacer, 2) + "\n");
    return h.steps.length ? 1 : 0;
  }
  const letters = new Map<number, string>();
  const letter = (g: number) => { if (!letters.has(g)) letters.set(g, String.fromCharCode(65 + (letters.size % 26)) + (letters.size >= 26 ? String(Math.floor(letters.size / 26)) : "")); return letters.get(g)!; };
  const lines = [`${type} across ${files.length} files (same letter: same definition):`];
  files.forEach((f, i) => lines.push(`  [${letter(h.groups[i])}] ${f}`));
  lines.push("");
  if (!h.steps.length) lines.push("no change");
  for (const s of h.steps) {
    lines.push(`${files[s.from]} -> ${files[s.to]}:`);
    for (const k of s.result.added) lines.push(`+ ${keyLabel(k)}`);
    for (const k of s.result.removed) lines.push(`- ${keyLabel(k)}`);
    for (const c of s.result.changed) lines.push(...changedText(c));
    lines.push("");
  }
  out(lines.join("\n") + "\n");
  return h.steps.length ? 1 : 0;
}
