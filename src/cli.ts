#!/usr/bin/env node
// Entry point of the `btfkit` binary (Node and Deno).
import { main } from "./cli/main.js";

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e) => { process.stderr.write(`btfkit: ${(e as Error).stack ?? e}\n`); process.exitCode = 2; },
);
