// The JSON report of `btfkit core --json`, also the body the service's
// POST /core answers: one function, so the two cannot drift apart.

import { coreJson, type CoreReport } from "./coreRelo.js";

/** The report's text: { results: [one entry per object x kernel] }, u64 values as decimal strings. */
export function coreReportJson(reports: CoreReport[]): string {
  return JSON.stringify({ results: reports.map(coreJson) }, null, 1) + "\n";
}
