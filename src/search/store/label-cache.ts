/** Vector label → paper rowid, in memory (dense for the labels nextLabel hands out). */

/** Labels below this live in a dense Int32Array; larger ones (never allocated by nextLabel in practice) in a Map. */
const DENSE_LABEL_LIMIT = 1 << 24;

export class LabelCache {
  private dense = new Int32Array(1024);
  private sparse = new Map<number, number>();

  set(label: number, rowid: number): void {
    if (label < DENSE_LABEL_LIMIT && rowid <= 0x7fffffff) {
      if (label >= this.dense.length) {
        let size = this.dense.length;
        while (size <= label) size *= 2;
        const grown = new Int32Array(Math.min(size, DENSE_LABEL_LIMIT));
        grown.set(this.dense);
        this.dense = grown;
      }
      this.dense[label] = rowid;
      this.sparse.delete(label);
    } else {
      if (label < this.dense.length) this.dense[label] = 0;
      this.sparse.set(label, rowid);
    }
  }

  delete(label: number): void {
    if (label < this.dense.length) this.dense[label] = 0;
    this.sparse.delete(label);
  }

  get(label: number): number | undefined {
    if (label >= 0 && label < this.dense.length) {
      const v = this.dense[label]!;
      if (v !== 0) return v;
    }
    return this.sparse.get(label);
  }
}
