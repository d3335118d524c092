// Module types of the worker's non-JS modules (workerd/wrangler module rules).
declare module "*.wasm" {
  const compiled: WebAssembly.Module;
  export default compiled;
}
declare module "*.btf.gz" {
  const data: ArrayBuffer;
  export default data;
}
