// The argument table: each verb declares its options here, and parseArgs
// rejects anything else with a usage error (exit 2).

import { BtfError } from "../errors.js";

export type OptKind = "string" | "bool" | "multi";
export interface VerbSpec {
  usage: string;
  summary: string;
  options: Record<string, OptKind>;
  /** Short aliases: -o -> out. */
  aliases?: Record<string, string>;
  minPositionals?: number;
  maxPositionals?: number;
}

export interface ParsedArgs {
  positionals: string[];
  opts: Record<string, string | boolean | string[] | undefined>;
}

export function parseArgs(argv: string[], spec: VerbSpec): ParsedArgs {
  const positionals: string[] = [];
  const opts: ParsedArgs["opts"] = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") { positionals.push(...argv.slice(i + 1)); break; }
    if (a.startsWith("-") && a.length > 1) {
      let name: string;
      let inline: string | undefined;
      if (a.startsWith("--")) {
        const eq = a.indexOf("=");
        name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
        inline = eq >= 0 ? a.slice(eq + 1) : undefined;
      } else {
        name = spec.aliases?.[a.slice(1)] ?? a.slice(1);
      }
      const kind = spec.options[name];
      if (!kind) throw new BtfError("USAGE", `unknown option ${a}\nusage: ${spec.usage}`);
      if (kind === "bool") { opts[name] = true; continue; }
      const v = inline ?? argv[++i];
      if (v === undefined) throw new BtfError("USAGE", `option ${a} needs a value\nusage: ${spec.usage}`);
      if (kind === "multi") ((opts[name] ??= []) as string[]).push(v);
      else opts[name] = v;
    } else positionals.push(a);
  }
  if (positionals.length < (spec.minPositionals ?? 0) || positionals.length > (spec.maxPositionals ?? Infinity))
    throw new BtfError("USAGE", `wrong number of arguments\nusage: ${spec.usage}`);
  return { positionals, opts };
}

export function str(v: unknown): string | undefined { return typeof v === "string" ? v : undefined; }
export function multi(v: unknown): string[] { return Array.isArray(v) ? v : []; }
