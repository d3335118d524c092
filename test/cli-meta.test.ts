// The CLI's own surface: --version is package.json's version, every verb
// answers --help with its usage and options (exit 0, nothing run), and the
// LICENSE file exists as package.json names it.
import { describe, it, expect } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, cli } from "./helpers.js";
import { VERBS } from "../src/cli/main.js";

const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));

describe("btfkit CLI metadata", () => {
  it("--version, -V and `version` print package.json's version", () => {
    for (const arg of ["--version", "-V", "version"]) {
      const r = cli([arg]);
      expect(r.code).toBe(0);
      expect(r.stdout.toString()).toBe(`btfkit ${pkg.version}\n`);
    }
  });

  it("every verb's --help (and `help VERB`) prints its usage, summary and options, exit 0", () => {
    for (const [name, v] of Object.entries(VERBS)) {
      for (const args of [[name, "--help"], [name, "-h"], ["help", name], [name, "some-file", "--help"]]) {
        const r = cli(args);
        expect(r.code, args.join(" ")).toBe(0);
        const text = r.stdout.toString();
        expect(text.startsWith(`usage: ${v.spec.usage}\n`)).toBe(true);
        expect(text).toContain(v.spec.summary);
        for (const o of Object.keys(v.spec.options)) expect(text).toContain(`--${o}`);
      }
    }
  });

  it("--help after `--` is a positional, not a help request", () => {
    const r = cli(["info", "--", "--help"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--help/);
  });

  it("an unknown verb exits 2 with the verb list", () => {
    const r = cli(["frobnicate"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown verb 'frobnicate'");
    expect(r.stderr).toContain("--version");
  });

  it("LICENSE is the MIT licence package.json names", () => {
    expect(pkg.license).toBe("MIT");
    const f = join(ROOT, "LICENSE");
    expect(existsSync(f)).toBe(true);
    const text = readFileSync(f, "utf8");
    expect(text).toMatch(/^MIT License/);
    expect(text).toContain("btfkit contributors");
  });
});
