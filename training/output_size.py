"""Would a smaller output of the default model lose search quality? Measured without building one.

  npx tsx training/dump-eval-vectors.ts arxiv 20000 /tmp/dim/train
  npx tsx training/dump-eval-vectors.ts beir ../shared/data/scifact train /tmp/dim/scifact
  npx tsx training/dump-eval-vectors.ts beir training/data/arxiv-dev-ict dev /tmp/dim/ict
  npx tsx training/dump-eval-vectors.ts beir training/data/arxiv-dev-related dev /tmp/dim/related
  /usr/bin/python3 training/output_size.py --fit /tmp/dim/train /tmp/dim/scifact /tmp/dim/ict /tmp/dim/related

The projection is fixed, not trained: the principal axes of the training papers' vectors (their
covariance), applied to the vectors as they are and normalised again. For each size, nDCG@10 of
exact dense search and of the product's fusion (z-scores over both candidate lists, BM25's best
`denseFillTop` scored densely, the model's dense weight), as `npm run eval` computes them: at the
full size this script gives eval's figures.
"""
from __future__ import annotations

import argparse
import json

import numpy as np


def ndcg10(ranked: list[str], rel: dict[str, int]) -> float:
    dcg = sum((2 ** rel.get(d, 0) - 1) / np.log2(i + 2) for i, d in enumerate(ranked[:10]))
    idcg = sum((2 ** r - 1) / np.log2(i + 2) for i, r in enumerate(sorted(rel.values(), reverse=True)[:10]))
    return dcg / idcg if idcg > 0 else 0.0


def z(values: list[float]) -> np.ndarray:
    v = np.array(values, dtype=np.float64)
    s = v.std()
    return (v - v.mean()) / s if s > 1e-12 else np.zeros_like(v)


def evaluate(meta: dict, corpus: np.ndarray, queries: np.ndarray) -> tuple[float, float]:
    ids, w, fill = meta["ids"], meta["denseWeight"], meta["denseFillTop"]
    scores = queries @ corpus.T
    dense_ndcg, hybrid_ndcg = [], []
    for qi in range(len(queries)):
        rel, s = meta["qrels"][qi], scores[qi].copy()
        if meta["self"]:
            s[meta["self"][qi]] = -np.inf  # /related: never the paper itself
        top = np.argsort(-s)[:100]
        dense_ndcg.append(ndcg10([ids[j] for j in top[:10]], rel))
        dense = {int(j): float(s[j]) for j in top}
        bm25 = {j: score for j, score in meta["bm25"][qi]}
        for j, _ in meta["bm25"][qi][:fill]:
            dense.setdefault(j, float(s[j]))
        union = list(dict.fromkeys([*dense, *bm25]))
        floor = min(dense.values())
        fused = w * z([dense.get(j, floor) for j in union]) + (1 - w) * z([bm25.get(j, 0.0) for j in union])
        order = sorted(range(len(union)), key=lambda k: (-fused[k], union[k]))
        hybrid_ndcg.append(ndcg10([ids[union[k]] for k in order[:10]], rel))
    return float(np.mean(dense_ndcg)), float(np.mean(hybrid_ndcg))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fit", required=True, help="prefix of the training papers' vectors (.arxiv.f32)")
    ap.add_argument("--sizes", default="512,384,256,192,128")
    ap.add_argument("sets", nargs="+", help="prefixes of dumped evaluation sets")
    args = ap.parse_args()
    train = np.fromfile(args.fit + ".arxiv.f32", dtype=np.float32)
    for prefix in args.sets:
        meta = json.load(open(prefix + ".json"))
        dim = meta["dim"]
        train = train.reshape(-1, dim)
        values, vectors = np.linalg.eigh(np.cov((train - train.mean(0)).T))
        axes = vectors[:, np.argsort(-values)]
        corpus = np.fromfile(prefix + ".corpus.f32", dtype=np.float32).reshape(-1, dim)
        queries = np.fromfile(prefix + ".queries.f32", dtype=np.float32).reshape(-1, dim)
        for size in (int(x) for x in args.sizes.split(",")):
            def project(x: np.ndarray) -> np.ndarray:
                y = x @ axes[:, :size]
                return (y / np.linalg.norm(y, axis=1, keepdims=True)).astype(np.float32)
            d, h = evaluate(meta, project(corpus), project(queries))
            kept = float(np.sort(values)[::-1][:size].sum() / values.sum())
            print(json.dumps({"set": prefix, "size": size, "variance_kept": round(kept, 4), "dense_ndcg10": round(d, 4), "hybrid_ndcg10": round(h, 4)}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
