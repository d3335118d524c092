// The Workers deployment's limits, shared by the worker and by the test that
// compares its answers with the Node service configured the same way. Sized
// for an isolate's 128 MB: a module of at most 8 MiB on the wire and 32 MiB
// decompressed (the default 256 MiB cap would not fit an isolate), at most 4
// kernels per request (each kernel a request names stays parsed in memory).
export const WORKER_LIMITS = {
  maxBodyBytes: 8 << 20,
  maxDecompressedBytes: 32 << 20,
  timeBudgetMs: 20_000,
  maxKernelsPerRequest: 4,
} as const;
