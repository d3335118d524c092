// The worker's bundled source, embedded by the web build (rollup.config.mjs).
declare module "virtual:explorer-worker" {
  const source: string;
  export default source;
}
