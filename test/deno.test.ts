// Runs the Deno suites (test/deno/bundle.test.ts: package import, init({module}),
// the CLI; service.test.ts: the service bundle under Deno.serve; example.test.ts:
// examples/ci-check.ts and its exit codes)
// with the deno dev dependency. The conformance suite's Deno run is driven
// by test/conformance.test.ts. Skipped with a logged reason when deno is
// absent, except under CI=true.
import { describe, it, expect } from "vitest";
import { existsSync } from "node:fs";
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "./helpers.js";

const DENO = join(ROOT, "node_modules/.bin/deno");

function run(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(DENO, args, { cwd: ROOT, env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (out += d));
    p.on("close", (code) => resolve({ code: code ?? -1, out }));
  });
}

describe("Deno suites", () => {
  for (const file of ["bundle", "service", "example"]) {
    it(`deno test test/deno/${file}.test.ts`, async () => {
      const why = !existsSync(DENO) ? `${DENO} not found` : spawnSync(DENO, ["--version"]).status !== 0 ? "deno --version failed" : null;
      if (why) {
        if (process.env.CI) throw new Error(`deno is required under CI: ${why}`);
        console.log(`deno: SKIPPED ${file}: ${why}`);
        return;
      }
      if (!existsSync(join(ROOT, "dist/index.js")) || !existsSync(join(ROOT, "dist/service.js"))) throw new Error("dist/ is incomplete: run `npm run build` first");
      const r = await run(["test", "-A", "--no-check", `test/deno/${file}.test.ts`]);
      expect(r.code, r.out).toBe(0);
      const summary = /ok \| (\d+) passed \| (\d+) failed/.exec(r.out);
      expect(summary, r.out).not.toBeNull();
      expect(Number(summary![1])).toBeGreaterThan(0);
      console.log(`deno ${file}: ${summary![1]} passed, ${summary![2]} failed`);
    }, 180_000);
  }
});
