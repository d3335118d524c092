// Two ESM bundles with the wasm embedded (src/generated/wasm.ts): the library
// (dist/index.js, with .d.ts) and the CLI (dist/cli.js). Dependencies are
// bundled too, so dist/ runs in Node, Deno and browsers without node_modules.
import typescript from "@rollup/plugin-typescript";
import { nodeResolve } from "@rollup/plugin-node-resolve";
import commonjs from "@rollup/plugin-commonjs";

// xz-decompress falls back to require("stream/web") only where there is no
// global ReadableStream; every runtime we support has one.
const noStreamWeb = {
  name: "no-stream-web",
  resolveId: (id) => (id === "stream/web" ? "\0stream-web" : null),
  load: (id) => (id === "\0stream-web" ? "export default {};" : null),
};

const onwarn = (w, warn) => {
  if (w.code === "CIRCULAR_DEPENDENCY" || w.code === "THIS_IS_UNDEFINED") return;
  warn(w);
};

const plugins = (decl) => [
  noStreamWeb,
  nodeResolve({ browser: false, preferBuiltins: false }),
  commonjs(),
  typescript({ tsconfig: "./tsconfig.json", declaration: decl, declarationDir: decl ? "dist" : undefined, outDir: "dist" }),
];

export default [
  {
    input: { index: "src/index.ts" },
    output: { dir: "dist", format: "es" },
    plugins: plugins(true),
    onwarn,
  },
  {
    input: { cli: "src/cli.ts" },
    output: { dir: "dist", format: "es" },
    external: [/^node:/],
    plugins: plugins(false),
    onwarn,
  },
];
