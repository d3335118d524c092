// Deno side of the cross-runtime conformance: the bundle dist/index.js (as a
// local file import) through test/conformance/run.ts. Writes
// test-output/conformance/deno.json, which test/conformance.test.ts compares
// with Node's and Chromium's hashes.
// Run: npx deno test -A --no-check test/deno/   (after npm run build)

import * as api from "../../dist/index.js";
import { runConformance, fixtureFiles } from "../conformance/run.ts";

const root = new URL("../../", import.meta.url);

Deno.test("conformance subset: hashes of every registry operation on the fixtures", async () => {
  for (const f of fixtureFiles()) await Deno.stat(new URL(`test/fixtures/${f}`, root));
  const res = await runConformance(api as never, (rel) => Deno.readFile(new URL(`test/fixtures/${rel}`, root)), `deno ${Deno.version.deno}`);
  const n = Object.keys(res.hashes).length;
  if (n === 0) throw new Error("no output was hashed");
  const out = new URL("test-output/conformance/", root);
  await Deno.mkdir(out, { recursive: true });
  await Deno.writeTextFile(new URL("deno.json", out), JSON.stringify(res, null, 2) + "\n");
  console.log(`deno: ${n} outputs hashed (ops: ${res.ops.join(", ")}) in ${res.ms} ms`);
});
