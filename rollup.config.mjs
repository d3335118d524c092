// Two ESM bundles with the wasm embedded (src/generated/wasm.ts): the library
// (dist/index.js, with .d.ts) and the CLI (dist/cli.js). Dependencies are
// bundled too, so dist/ runs in Node, Deno and browsers without node_modules.
import typescript from "@rollup/plugin-typescript";
import { nodeResolve } from "@rollup/plugin-node-resolve";
import commonjs from "@rollup/plugin-commonjs";
import { rollup } from "rollup";
import { readFileSync } from "node:fs";
import { resolve, dirname } from "node:path";

const onwarn = (w, warn) => {
  if (w.code === "CIRCULAR_DEPENDENCY" || w.code === "THIS_IS_UNDEFINED") return;
  warn(w);
};

const plugins = (decl) => [
  nodeResolve({ browser: false, preferBuiltins: false }),
  commonjs(),
  typescript({ tsconfig: "./tsconfig.json", declaration: decl, declarationDir: decl ? "dist" : undefined, outDir: "dist" }),
];

// ---- the explorer (src/web/ -> dist/web/) ------------------------------------
// A static page that works from file:// and any static server: classic
// scripts only (module scripts and file:// workers are blocked on file://),
// the worker's bundle embedded into explorer.js as a string and started from
// a blob: URL. Built with tsconfig.web.json (tsconfig.json leaves src/web out).

const webPlugins = () => [
  nodeResolve({ browser: true, preferBuiltins: false }),
  commonjs(),
  typescript({ tsconfig: "./tsconfig.web.json" }),
];

const explorerWorker = {
  name: "explorer-worker",
  resolveId: (id) => (id === "virtual:explorer-worker" ? "\0explorer-worker" : null),
  async load(id) {
    if (id !== "\0explorer-worker") return null;
    const b = await rollup({ input: "src/web/worker.ts", plugins: webPlugins(), onwarn });
    const { output } = await b.generate({ format: "iife", name: "btfkitExplorerWorker" });
    for (const f of b.watchFiles) this.addWatchFile(f);
    await b.close();
    return `export default ${JSON.stringify(output[0].code)};`;
  },
};

const webAssets = {
  name: "explorer-assets",
  buildStart() {
    for (const f of ["src/web/index.html", "src/web/style.css"]) this.addWatchFile(f);
  },
  generateBundle() {
    for (const f of ["index.html", "style.css"]) this.emitFile({ type: "asset", fileName: f, source: readFileSync(`src/web/${f}`) });
  },
};

const web = {
  input: "src/web/app.ts",
  output: { dir: "dist/web", format: "iife", entryFileNames: "explorer.js" },
  plugins: [explorerWorker, ...webPlugins(), webAssets],
  onwarn,
};

// ---- the check service (src/service/ -> dist/service.js) ------------------------
// Uses the library bundle itself (./index.js), not a second copy of it, so a
// deployment ships one core. node:fs is loaded lazily (kernel directories).

const LIB_ENTRY = resolve("src/index.ts");
const libImport = (id, importer) =>
  importer !== undefined && id.startsWith(".") && resolve(dirname(importer), id).replace(/\.js$/, ".ts") === LIB_ENTRY;

const service = {
  input: { service: "src/service/index.ts" },
  output: {
    dir: "dist",
    format: "es",
    chunkFileNames: "service-[name].js",
    paths: (id) => (id.replace(/\.js$/, ".ts") === LIB_ENTRY ? "./index.js" : id),
  },
  external: (id, importer) => /^node:/.test(id) || libImport(id, importer) || id.replace(/\.js$/, ".ts") === LIB_ENTRY,
  plugins: plugins(false),
  onwarn,
};

// ---- the Workers bundle (deploy/workers/ -> dist/workers/) ------------------------
// What deploy/workers/workerd.capnp embeds: worker.js (the library and the
// service bundled from source, with the base64 core stubbed out: the core
// arrives as a compiled module binding), btfkit.wasm, and the two fixture
// kernels as data modules, kept gzipped (1.4 MB each instead of ~5 MB; the
// core decompresses them once per isolate, on first use).

const WORKER_KERNELS = { "k61-50": "test/fixtures/k61-50/vmlinux.btf.gz", "k61-47": "test/fixtures/k61-47/vmlinux.btf.gz" };
const GENERATED_WASM = resolve("src/generated/wasm.ts");

const workerAssets = {
  name: "workers-assets",
  resolveId(id, importer) {
    // The module bindings stay imports of worker.js, resolved by workerd/wrangler.
    if (id === "./btfkit.wasm" || id.startsWith("./kernels/")) return { id, external: true };
    if (importer && id.startsWith(".") && resolve(dirname(importer), id).replace(/\.js$/, ".ts") === GENERATED_WASM) return "\0no-embedded-wasm";
    return null;
  },
  load(id) {
    return id === "\0no-embedded-wasm" ? 'export const WASM_BASE64 = "";\nexport const WASM_SIZE = 0;\n' : null;
  },
  buildStart() {
    for (const f of ["build/btfkit.wasm", ...Object.values(WORKER_KERNELS)]) this.addWatchFile(f);
  },
  generateBundle() {
    this.emitFile({ type: "asset", fileName: "btfkit.wasm", source: readFileSync("build/btfkit.wasm") });
    for (const [name, file] of Object.entries(WORKER_KERNELS)) this.emitFile({ type: "asset", fileName: `kernels/${name}.btf.gz`, source: readFileSync(file) });
  },
};

const workers = {
  input: { worker: "deploy/workers/worker.ts" },
  output: { dir: "dist/workers", format: "es" },
  plugins: [
    workerAssets,
    nodeResolve({ browser: true, preferBuiltins: false }),
    commonjs(),
    typescript({ tsconfig: "./deploy/workers/tsconfig.json" }),
  ],
  onwarn,
};

// `rollup -c` builds everything; `rollup -c --configTarget web` only the explorer.
const all = [
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
  // The worker thread of `check --jobs N`, started by dist/cli.js from the
  // file next to it; self-contained like the CLI (its own core instance).
  {
    input: { "check-worker": "src/cli/check-worker.ts" },
    output: { dir: "dist", format: "es" },
    external: [/^node:/],
    plugins: plugins(false),
    onwarn,
  },
  service,
  workers,
  web,
];

export default (args) => {
  if (args.configTarget === "web") return [web];
  if (args.configTarget === "service") return [service];
  if (args.configTarget === "workers") return [workers];
  return all;
};
