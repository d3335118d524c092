// The btfkit command line. Each verb lives in its own file under src/cli/
// and is listed in VERBS; exit codes: 0 ok, 1 incompatible or relocation
// failed, 2 bad input or usage.

import { init } from "../core.js";
import { BtfError } from "../errors.js";
import { out } from "./io.js";
import { VERSION } from "../generated/version.js";
import type { VerbSpec } from "./args.js";
import * as info from "./info.js";
import * as dump from "./dump.js";
import * as convert from "./convert.js";
import * as check from "./check.js";
import * as distill from "./distill.js";
import * as relocate from "./relocate.js";
import * as dedup from "./dedup.js";
import * as core from "./core.js";
import * as mincore from "./mincore.js";
import * as diff from "./diff.js";

export interface Verb { spec: VerbSpec; run(argv: string[]): Promise<number> }

export const VERBS: Record<string, Verb> = { info, dump, convert, distill, relocate, dedup, check, core, "min-core": mincore, diff };


/** `btfkit VERB --help`: the verb's usage, what it does and its options. */
export function verbHelp(name: string, v: Verb): string {
  const opts = Object.entries(v.spec.options).map(([o, kind]) => {
    const alias = Object.entries(v.spec.aliases ?? {}).find(([, long]) => long === o)?.[0];
    return `  --${o}${kind === "bool" ? "" : " VALUE"}${kind === "multi" ? " (repeatable)" : ""}${alias ? `, -${alias}` : ""}`;
  });
  return `usage: ${v.spec.usage}\n\n${name}: ${v.spec.summary}\n${opts.length ? `\noptions:\n${opts.join("\n")}\n` : ""}` +
    `\nexit codes: 0 ok, 1 incompatible or failed, 2 bad input or usage\n`;
}

function help(): string {
  const rows = Object.entries(VERBS).map(([name, v]) => `  ${name.padEnd(9)} ${v.spec.summary}\n            ${v.spec.usage}`);
  return `btfkit ${VERSION}: BTF toolkit (parse, validate, dump, distill, relocate, dedup, check, core, min-core, diff)\n\nusage: btfkit <verb> [args]     btfkit <verb> --help     btfkit --version\n\n${rows.join("\n")}\n\nexit codes: 0 ok, 1 incompatible, relocation failed or (diff) differences found, 2 bad input or usage\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === "--version" || verb === "-V" || verb === "version") {
    out(`btfkit ${VERSION}\n`);
    return 0;
  }
  if (verb === "help" && rest.length === 1 && VERBS[rest[0]]) {
    out(verbHelp(rest[0], VERBS[rest[0]]));
    return 0;
  }
  if (!verb || verb === "-h" || verb === "--help" || verb === "help") {
    out(help());
    return verb ? 0 : 2;
  }
  const v = VERBS[verb];
  if (!v) {
    process.stderr.write(`btfkit: unknown verb '${verb}'\n\n${help()}`);
    return 2;
  }
  const beforeDashes = rest.indexOf("--") >= 0 ? rest.slice(0, rest.indexOf("--")) : rest;
  if (beforeDashes.includes("-h") || beforeDashes.includes("--help")) {
    out(verbHelp(verb, v));
    return 0;
  }
  try {
    await init();
    return await v.run(rest);
  } catch (e) {
    if (e instanceof BtfError) {
      process.stderr.write(`btfkit ${verb}: ${e.describe()}\n`);
      return 2;
    }
    process.stderr.write(`btfkit ${verb}: internal error: ${(e as Error).stack ?? e}\n`);
    return 2;
  }
}
