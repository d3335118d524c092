# workerd config for btfkit's check service. From the project root, after
# `npm run build` (which makes everything embedded below, in dist/workers/):
#
#   npx workerd serve deploy/workers/workerd.capnp --socket-addr http=127.0.0.1:8787
#
# One module worker (dist/workers/worker.js, bundled from worker.ts), the
# core as a compiled wasm module, and the fixture kernels of Debian 6.1.0-50
# and 6.1.0-47 as data modules named k61-50 and k61-47. Paths are relative
# to this file.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "btfkit-check", worker = .checkWorker) ],
  sockets = [ (name = "http", address = "127.0.0.1:8787", http = (), service = "btfkit-check") ],
);

const checkWorker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "../../dist/workers/worker.js"),
    (name = "btfkit.wasm", wasm = embed "../../dist/workers/btfkit.wasm"),
    (name = "kernels/k61-50.btf.gz", data = embed "../../dist/workers/kernels/k61-50.btf.gz"),
    (name = "kernels/k61-47.btf.gz", data = embed "../../dist/workers/kernels/k61-47.btf.gz"),
  ],
  compatibilityDate = "2026-11-01",
);
