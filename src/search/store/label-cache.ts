/**
 * Vector label ↔ paper rowid, in memory: label → paper for every dense hit, and paper → labels for
 * the dense scores of BM25-only candidates (a store query for those cost ~0.1 ms a search at 140k).
 * Dense typed arrays for the labels nextLabel hands out and the rowids SQLite does.
 */

/** Labels and rowids below this live in dense Int32Arrays; larger ones (never seen in practice) in Maps. */
const DENSE_LIMIT = 1 << 24;

export class LabelCache {
  private dense = new Int32Array(1024);
  private sparse = new Map<number, number>();
  /** rowid → its only label + 1 (0: none, or see `multi`). One label per paper since schema 2. */
  private labelOf = new Int32Array(1024);
  /** rowid → its labels, for papers with several (older indexes) or a rowid or label beyond the dense range. */
  private multi = new Map<number, number[]>();

  set(label: number, rowid: number): void {
    const previous = this.get(label);
    if (previous === rowid) return;
    if (previous !== undefined) this.unlink(label, previous);
    if (label < DENSE_LIMIT && rowid <= 0x7fffffff) {
      this.dense = grownTo(this.dense, label);
      this.dense[label] = rowid;
      this.sparse.delete(label);
    } else {
      if (label < this.dense.length) this.dense[label] = 0;
      this.sparse.set(label, rowid);
    }
    this.link(label, rowid);
  }

  delete(label: number): void {
    const rowid = this.get(label);
    if (rowid === undefined) return;
    if (label < this.dense.length) this.dense[label] = 0;
    this.sparse.delete(label);
    this.unlink(label, rowid);
  }

  get(label: number): number | undefined {
    if (label >= 0 && label < this.dense.length) {
      const v = this.dense[label]!;
      if (v !== 0) return v;
    }
    return this.sparse.get(label);
  }

  /** The labels of a paper, in the order they were set (an empty list when it has none). */
  labelsOf(rowid: number): number[] {
    const many = this.multi.get(rowid);
    if (many) return [...many];
    const one = rowid >= 0 && rowid < this.labelOf.length ? this.labelOf[rowid]! : 0;
    return one === 0 ? [] : [one - 1];
  }

  private link(label: number, rowid: number): void {
    const many = this.multi.get(rowid);
    if (many) {
      many.push(label);
      return;
    }
    const existing = rowid < this.labelOf.length ? this.labelOf[rowid]! : 0;
    if (existing === 0 && rowid < DENSE_LIMIT && label < DENSE_LIMIT) {
      this.labelOf = grownTo(this.labelOf, rowid);
      this.labelOf[rowid] = label + 1;
      return;
    }
    if (existing !== 0) this.labelOf[rowid] = 0;
    this.multi.set(rowid, existing === 0 ? [label] : [existing - 1, label]);
  }

  private unlink(label: number, rowid: number): void {
    const many = this.multi.get(rowid);
    if (many) {
      const rest = many.filter((l) => l !== label);
      if (rest.length > 0) this.multi.set(rowid, rest);
      else this.multi.delete(rowid);
    } else if (rowid < this.labelOf.length && this.labelOf[rowid] === label + 1) {
      this.labelOf[rowid] = 0;
    }
  }
}

/** `array`, or a copy twice as large (or more) when `index` is beyond it. */
function grownTo(array: Int32Array<ArrayBuffer>, index: number): Int32Array<ArrayBuffer> {
  if (index < array.length) return array;
  let size = array.length;
  while (size <= index) size *= 2;
  const grown = new Int32Array(Math.min(size, DENSE_LIMIT));
  grown.set(array);
  return grown;
}
