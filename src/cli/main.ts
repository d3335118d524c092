// The btfkit command line. Each verb lives in its own file under src/cli/
// and is listed in VERBS; exit codes: 0 ok, 1 incompatible or relocation
// failed, 2 bad input or usage.

import { init } from "../core.js";
import { BtfError } from "../errors.js";
import { out } from "./io.js";
import type { VerbSpec } from "./args.js";
import * as info from "./info.js";
import * as dump from "./dump.js";
import * as convert from "./convert.js";
import * as check from "./check.js";
import * as distill from "./distill.js";
import * as relocate from "./relocate.js";
import * as dedup from "./dedup.js";
import * as diff from "./diff.js";

export interface Verb { spec: VerbSpec; run(argv: string[]): Promise<number> }

export const VERBS: Record<string, Verb> = { info, dump, convert, distill, relocate, dedup, check, diff };


function help(): string {
  const rows = Object.entries(VERBS).map(([name, v]) => `  ${name.padEnd(9)} ${v.spec.summary}\n            ${v.spec.usage}`);
  return `btfkit: BTF toolkit (parse, validate, dump, distill, relocate, dedup, check, diff)\n\nusage: btfkit <verb> [args]\n\n${rows.join("\n")}\n\nexit codes: 0 ok, 1 incompatible, relocation failed or (diff) differences found, 2 bad input or usage\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (!verb || verb === "-h" || verb === "--help" || verb === "help") {
    out(help());
    return verb ? 0 : 2;
  }
  const v = VERBS[verb];
  if (!v) {
    process.stderr.write(`btfkit: unknown verb '${verb}'\n\n${help()}`);
    return 2;
  }
  if (rest.includes("-h") || rest.includes("--help")) {
    out(`usage: ${v.spec.usage}\n`);
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
