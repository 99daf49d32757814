"""Tests of the training pipeline (need torch; not part of `npm test`):
  /usr/bin/python3 -m unittest discover -s training -p 'test_*.py'
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_parity import DEFAULT_DIST, MIN_COSINE, parity  # noqa: E402
from model import TFJS_NAMES, UseLite, pad_batch, read_tfjs_weights  # noqa: E402
from train import D_MAX, Q_MAX, RECORD  # noqa: E402

HERE = Path(__file__).resolve().parent
REFERENCE = HERE / "data" / "reference.json"
SHIPPED = HERE.parent / "weights" / "paperhound-sci-1"


def pretrained() -> UseLite:
    model = UseLite()
    model.load_weights(read_tfjs_weights(DEFAULT_DIST))
    return model.eval()


class NetworkTest(unittest.TestCase):
    @unittest.skipUnless(REFERENCE.exists(), "run `npm run train:prepare` first")
    def test_reproduces_the_onnx_model(self) -> None:
        cos = parity(pretrained(), json.loads(REFERENCE.read_text()))
        self.assertGreaterEqual(float(cos.min()), MIN_COSINE)

    def test_padding_does_not_change_a_row(self) -> None:
        model = pretrained()
        short, long = [11, 12, 13], list(range(20, 60))
        with torch.no_grad():
            alone = model(*pad_batch([short]))
            mixed = model(*pad_batch([short, long]))
        self.assertLess((alone[0] - mixed[0]).abs().max().item(), 1e-5)

    def test_outputs_are_unit_vectors(self) -> None:
        with torch.no_grad():
            v = pretrained()(*pad_batch([[7, 8, 9], [100]]))
        self.assertTrue(torch.allclose(v.norm(dim=1), torch.ones(2), atol=1e-5))

    @unittest.skipUnless((SHIPPED / "reference.json").exists(), "no shipped model")
    def test_shipped_reference_matches_shipped_weights(self) -> None:
        manifest = json.loads((SHIPPED / "weights.json").read_text())
        data = (SHIPPED / "weights.bin").read_bytes()
        weights = {}
        for entry in manifest["weights"]:
            count = int(np.prod(entry["shape"]))
            weights[entry["name"]] = np.frombuffer(data, dtype="<f2", count=count, offset=entry["offset"]).astype(np.float32).reshape(entry["shape"])
        self.assertEqual(list(weights), list(TFJS_NAMES))
        model = UseLite()
        model.load_weights(weights)
        cos = parity(model.eval(), json.loads((SHIPPED / "reference.json").read_text()))
        self.assertGreaterEqual(float(cos.min()), MIN_COSINE)


def synthetic_data(folder: Path, pairs: int, seed: int = 0) -> None:
    """Records of random ids where query i and document i share tokens, so there is something to learn."""
    rng = np.random.default_rng(seed)
    rec = np.zeros((pairs, RECORD), dtype=np.int16)
    for i in range(pairs):
        topic = rng.integers(10, 8000, size=6)
        q = rng.choice(topic, size=5)
        d = np.concatenate([topic, rng.integers(10, 8000, size=20)])
        rec[i, :3] = (i % 2, len(q), len(d))
        rec[i, 3 : 3 + len(q)] = q
        rec[i, 3 + Q_MAX : 3 + Q_MAX + len(d)] = d
    assert len(d) <= D_MAX
    rec.tofile(folder / "pairs-train.bin")
    rec[:16].tofile(folder / "dev-ict.bin")


class TrainingRunTest(unittest.TestCase):
    def run_train(self, run: Path, data: Path, *extra: str) -> list[dict]:
        cmd = [sys.executable, str(HERE / "train.py"), "--run-dir", str(run), "--data", str(data), "--batch", "8",
               "--pairs", "48", "--warmup", "1", "--eval-every", "100", "--dev-size", "16", *extra]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        return [json.loads(line) for line in out.splitlines() if line.startswith("{")]

    def test_a_run_in_two_parts_ends_where_one_run_ends(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "data"
            data.mkdir()
            synthetic_data(data, 64)
            whole = self.run_train(Path(tmp) / "whole", data)
            self.assertEqual(whole[-1]["event"], "finished")
            first = self.run_train(Path(tmp) / "parts", data, "--part-steps", "3")
            self.assertEqual(first[-1]["event"], "stopped")
            self.assertEqual(first[-1]["step"], 3)
            second = self.run_train(Path(tmp) / "parts", data)
            self.assertEqual(second[0]["event"], "resumed")
            self.assertEqual(second[-1]["event"], "finished")
            a = torch.load(Path(tmp) / "whole" / "last.pt")["model"]
            b = torch.load(Path(tmp) / "parts" / "last.pt")["model"]
            for name in a:
                self.assertLess((a[name] - b[name]).abs().max().item(), 1e-4, name)
            # Training moved the weights away from the pretrained ones.
            start = pretrained().state_dict()
            self.assertGreater(max((a[n] - start[n]).abs().max().item() for n in a), 1e-4)


if __name__ == "__main__":
    unittest.main()
