/**
 * Exact search for small indexes and filtered fallbacks: a scan over a Float32Array copy of the
 * vectors, keeping the best k, with a filter that never lets an exception escape hnswlib's callback.
 */

/** One search result: a vector label and its cosine similarity. */
export interface VectorHit {
  label: number;
  /** Cosine similarity. */
  score: number;
}

/** A plain copy of unit vectors, scanned linearly. Rows are packed (swap-remove). */
export class ExactStore {
  private data: Float32Array;
  private readonly rowOf = new Map<number, number>();
  private labelAt: number[] = [];

  constructor(
    private readonly dim: number,
    capacity: number,
  ) {
    this.data = new Float32Array(Math.max(1, capacity) * dim);
  }

  set(label: number, unit: Float32Array): void {
    let row = this.rowOf.get(label);
    if (row === undefined) {
      row = this.labelAt.length;
      if ((row + 1) * this.dim > this.data.length) {
        const grown = new Float32Array(this.data.length * 2);
        grown.set(this.data);
        this.data = grown;
      }
      this.rowOf.set(label, row);
      this.labelAt.push(label);
    }
    this.data.set(unit, row * this.dim);
  }

  delete(label: number): void {
    const row = this.rowOf.get(label);
    if (row === undefined) return;
    const last = this.labelAt.length - 1;
    if (row !== last) {
      const moved = this.labelAt[last]!;
      this.data.copyWithin(row * this.dim, last * this.dim, (last + 1) * this.dim);
      this.labelAt[row] = moved;
      this.rowOf.set(moved, row);
    }
    this.labelAt.pop();
    this.rowOf.delete(label);
  }

  search(q: Float32Array, k: number, allow?: (label: number) => boolean): VectorHit[] {
    const top = new TopK(k);
    const d = this.dim;
    const data = this.data;
    const n = this.labelAt.length;
    for (let r = 0; r < n; r++) {
      const off = r * d;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let i = 0;
      for (; i + 3 < d; i += 4) {
        s0 += data[off + i]! * q[i]!;
        s1 += data[off + i + 1]! * q[i + 1]!;
        s2 += data[off + i + 2]! * q[i + 2]!;
        s3 += data[off + i + 3]! * q[i + 3]!;
      }
      for (; i < d; i++) s0 += data[off + i]! * q[i]!;
      const s = s0 + s1 + s2 + s3;
      if (!top.accepts(s)) continue;
      const label = this.labelAt[r]!;
      if (allow && !allow(label)) continue;
      top.push(label, s);
    }
    return top.result();
  }
}

/** The k best (label, score) pairs, kept sorted best first; ties keep insertion order. */
export class TopK {
  private readonly scores: number[] = [];
  private readonly labels: number[] = [];
  constructor(private readonly k: number) {}
  accepts(score: number): boolean {
    return this.scores.length < this.k || score > this.scores[this.scores.length - 1]!;
  }
  push(label: number, score: number): void {
    if (!this.accepts(score)) return;
    if (this.scores.length === this.k) {
      this.scores.pop();
      this.labels.pop();
    }
    // Binary search for the first position with a smaller score.
    let lo = 0;
    let hi = this.scores.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.scores[mid]! >= score) lo = mid + 1;
      else hi = mid;
    }
    this.scores.splice(lo, 0, score);
    this.labels.splice(lo, 0, label);
  }
  result(): VectorHit[] {
    return this.labels.map((label, i) => ({ label, score: this.scores[i]! }));
  }
}

/**
 * hnswlib-node aborts the whole process when a filter callback throws; wrap it so a throw is
 * recorded, the label rejected, and the error rethrown after the search.
 */
export function guardFilter(filter?: (label: number) => boolean): { fn: (label: number) => boolean; rethrow(): void } | undefined {
  if (!filter) return undefined;
  let failed = false;
  let error: unknown;
  return {
    fn: (label) => {
      if (failed) return false;
      try {
        return filter(label) === true;
      } catch (err) {
        failed = true;
        error = err;
        return false;
      }
    },
    rethrow() {
      if (failed) throw error;
    },
  };
}
