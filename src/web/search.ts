// The explorer's name index, built once per BTF in the worker from two bulk
// copies out of the core (webNames, webKinds). All names live in one string,
// "\n"-separated, plus a lower-cased twin, and a Uint32Array of where each
// name starts. A query is a few native indexOf scans over that string: no
// per-type objects, no per-keystroke allocation beyond the returned page of
// results. Ranking: exact name, then prefix, then substring; id order within.

export interface SearchHit { id: number; kind: number; name: string }
export interface SearchResult { total: number; hits: SearchHit[] }

const NL = 10;

/** Start offsets of each "\n"-terminated name in `text` (which begins with "\n"). */
function lineStarts(text: string, n: number): Uint32Array {
  const starts = new Uint32Array(n + 1);
  let pos = 1;
  for (let i = 0; i < n; i++) {
    starts[i] = pos;
    const nl = text.indexOf("\n", pos);
    pos = nl < 0 ? text.length + 1 : nl + 1;
  }
  starts[n] = pos;
  return starts;
}

export class NameIndex {
  /** Id of the first indexed type. */
  readonly from: number;
  readonly count: number;
  readonly kinds: Uint8Array;
  private readonly text: string;
  private readonly lower: string;
  private readonly starts: Uint32Array;
  private readonly lstarts: Uint32Array;

  /**
   * @param names UTF-8, one "\n"-terminated name per type from `from` on (webNames)
   * @param kinds one kind byte per type (webKinds)
   */
  constructor(names: Uint8Array, kinds: Uint8Array, from: number) {
    this.from = from;
    this.count = kinds.length;
    this.kinds = kinds;
    this.text = "\n" + new TextDecoder("utf-8").decode(names);
    this.starts = lineStarts(this.text, this.count);
    // Lower-casing can change lengths outside ASCII, so the twin gets its own starts.
    this.lower = this.text.toLowerCase();
    this.lstarts = this.lower.length === this.text.length ? this.starts : lineStarts(this.lower, this.count);
  }

  has(id: number): boolean { return id >= this.from && id < this.from + this.count; }

  name(id: number): string {
    if (!this.has(id)) return "";
    const i = id - this.from;
    return this.text.slice(this.starts[i], this.starts[i + 1] - 1);
  }

  kind(id: number): number { return this.has(id) ? this.kinds[id - this.from] : 0; }

  /** Index of the name holding position `p` of the lower-cased text. */
  private locate(p: number): number {
    const s = this.lstarts;
    let lo = 0;
    let hi = this.count - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (s[mid] <= p) lo = mid; else hi = mid - 1;
    }
    return lo;
  }

  private hit(i: number): SearchHit {
    return { id: this.from + i, kind: this.kinds[i], name: this.text.slice(this.starts[i], this.starts[i + 1] - 1) };
  }

  /**
   * Names containing `query` (case-insensitive), filtered by kind (0 = any).
   * An empty query lists types of the kind in id order. `total` counts every
   * match; `hits` holds the first `limit` by rank.
   */
  search(query: string, kind = 0, limit = 200): SearchResult {
    const q = query.replace(/[\n\r]/g, "").trim().toLowerCase();
    const hits: SearchHit[] = [];
    const okKind = (i: number) => kind === 0 || this.kinds[i] === kind;
    if (q === "") {
      let total = 0;
      for (let i = 0; i < this.count; i++) {
        if (!okKind(i)) continue;
        total++;
        if (hits.length < limit) hits.push(this.hit(i));
      }
      return { total, hits };
    }
    const lower = this.lower;
    const ls = this.lstarts;
    // 1. exact names
    const exact = "\n" + q + "\n";
    for (let p = lower.indexOf(exact); p >= 0 && hits.length < limit; p = lower.indexOf(exact, p + 1)) {
      const i = this.locate(p + 1);
      if (okKind(i)) hits.push(this.hit(i));
    }
    // 2. prefixes that are not exact
    const prefix = "\n" + q;
    for (let p = lower.indexOf(prefix); p >= 0 && hits.length < limit; p = lower.indexOf(prefix, p + 1)) {
      if (lower.charCodeAt(p + prefix.length) === NL) continue;
      const i = this.locate(p + 1);
      if (okKind(i)) hits.push(this.hit(i));
    }
    // 3. every name containing q: counts all, adds the inner matches
    let total = 0;
    for (let p = lower.indexOf(q); p >= 0; ) {
      const i = this.locate(p);
      if (okKind(i)) {
        total++;
        if (p !== ls[i] && hits.length < limit) hits.push(this.hit(i));
      }
      p = lower.indexOf(q, ls[i + 1]);
    }
    return { total, hits };
  }
}
