// Output limits the host checks: whether the last operation's result ran
// past the result cap (assembly/handles.ts RESULT_LIMIT).

export { resultOverflowed } from "../handles";
