// Loaded by test/explorer.test.ts into a page served under the explorer's CSP:
// a negative control showing the policy refuses eval and new Function for the
// page's own scripts (DevTools' evaluate is exempt, so this must be a file).
const probe = (f) => { try { f(); return "ran"; } catch (e) { return `refused: ${e && e.name}`; } };
window.__cspProbe = {
  eval: probe(() => (0, eval)("1")),
  newFunction: probe(() => new Function("return 1")()),
};
