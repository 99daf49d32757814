"""Tests of the training pipeline (need torch; not part of `npm test`):
  /usr/bin/python3 -m unittest discover -s training -p 'test_*.py'
"""
from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_parity import MIN_COSINE, parity  # noqa: E402
from model import NPM_WEIGHTS, TFJS_NAMES, UseLite, pad_batch, read_tfjs_weights  # noqa: E402
from paper_pairs import PaperBatches, PaperPieces  # noqa: E402
from train import D_MAX, Q_MAX, RECORD, contrastive_loss, read_weight_dir  # noqa: E402

HERE = Path(__file__).resolve().parent
REFERENCE = HERE / "data" / "reference.json"
SHIPPED = HERE.parent / "weights" / "paperhound-sci-1"


def pretrained() -> UseLite:
    model = UseLite()
    model.load_weights(read_tfjs_weights(NPM_WEIGHTS))
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
        weights = read_weight_dir(SHIPPED)
        self.assertEqual(list(weights), list(TFJS_NAMES))
        model = UseLite()
        model.load_weights(weights)
        cos = parity(model.eval(), json.loads((SHIPPED / "reference.json").read_text()))
        self.assertGreaterEqual(float(cos.min()), MIN_COSINE)


def synthetic_papers(folder: Path, papers: int, seed: int = 0) -> None:
    """papers-train.bin as encodePaper writes it: a title, its prefix and 4 sentences sharing a topic."""
    rng = np.random.default_rng(seed)
    values: list[int] = []
    for i in range(papers):
        topic = rng.integers(10, 8000, size=6)
        title = list(rng.choice(topic, size=4))
        prefix = title + [5]
        sentences = [list(rng.choice(topic, size=3)) + list(rng.integers(10, 8000, size=8)) for _ in range(4)]
        values += [len(sentences), len(title), len(prefix)] + [-len(s) if k % 2 else len(s) for k, s in enumerate(sentences)]
        values += title + prefix + [t for s in sentences for t in s]
    np.array(values, dtype="<i2").tofile(folder / "papers-train.bin")


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


class PaperPairsTest(unittest.TestCase):
    def test_pairs_keep_the_query_out_of_its_document_and_repeat_by_step(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            synthetic_papers(Path(tmp), 30)
            pieces = PaperPieces.read(Path(tmp) / "papers-train.bin")
            self.assertEqual(len(pieces), 30)
            self.assertEqual(len(pieces.slots), 60)  # a title pair each, and an ICT pair each (two sentences may be asked)
            rng = np.random.default_rng(3)
            for slot in pieces.slots[pieces.slots < 0]:
                query, doc, paper = pieces.pair(int(slot), rng)
                prefix = pieces.tokens[pieces.prefixes[paper][0] : pieces.prefixes[paper][0] + pieces.prefixes[paper][1]]
                self.assertTrue(np.array_equal(doc[: len(prefix)], prefix))
                self.assertEqual(len(doc), len(prefix) + 3 * 11)  # the three other sentences
                self.assertEqual(len(query), 11)
            batches = PaperBatches(pieces, 8, seed=1, start=0, end=10)
            a, b = batches.batch_at(9), PaperBatches(pieces, 8, seed=1, start=9, end=10).batch_at(9)
            for x, y in zip(a, b):
                self.assertTrue(torch.equal(x, y))
            # Each draw may ask another sentence: both eligible ones of a paper come up.
            asked = {tuple(pieces.pair(-1, np.random.default_rng(k))[0]) for k in range(20)}
            self.assertEqual(len(asked), 2)

    def test_a_truncated_file_is_refused(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            synthetic_papers(Path(tmp), 3)
            raw = (Path(tmp) / "papers-train.bin").read_bytes()
            (Path(tmp) / "cut.bin").write_bytes(raw[:-10])
            with self.assertRaises(ValueError):
                PaperPieces.read(Path(tmp) / "cut.bin")


class HardNegativesTest(unittest.TestCase):
    def test_negatives_leave_the_pairs_as_they_were_and_come_from_the_row_past_skip(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            synthetic_papers(Path(tmp), 20)
            pieces = PaperPieces.read(Path(tmp) / "papers-train.bin")
            # Paper i's negatives: i+1 .. i+4 (mod 20), and paper 7 has none.
            rows = np.array([[(i + k) % 20 for k in range(1, 5)] for i in range(20)], dtype=np.int32)
            rows[7] = -1
            plain = PaperBatches(pieces, 8, seed=1, start=0, end=5)
            hard = PaperBatches(pieces, 8, seed=1, start=0, end=5, negatives=rows, skip=2)
            for step in range(5):
                a, b = plain.batch_at(step), hard.batch_at(step)
                self.assertEqual(len(b), 8)
                for x, y in zip(a, b[:5]):
                    self.assertTrue(torch.equal(x, y))
                for own, neg in zip(b[4].tolist(), b[7].tolist()):
                    self.assertNotEqual(own, neg)
                    if own != 7:
                        self.assertIn(neg, rows[own, 2:].tolist())
            # A negative is shaped like its pair's document: a title slot's has no title prefix.
            doc = pieces.document(3, 0, np.random.default_rng(0))
            self.assertEqual(len(doc), 4 * 11)
            ict = pieces.document(3, -1, np.random.default_rng(0))
            self.assertEqual(len(ict), 5 + 3 * 11)
            with self.assertRaises(ValueError):
                PaperBatches(pieces, 8, seed=1, start=0, end=5, negatives=rows[:10])

    def test_loss_with_negatives(self) -> None:
        torch.manual_seed(0)
        model = pretrained()
        q, qm = pad_batch([[11, 12, 13], [40, 41], [70, 71, 72, 73]])
        d, dm = pad_batch([[11, 12, 14, 15], [40, 42, 43], [70, 71, 90]])
        owner = torch.tensor([0, 1, 2])
        no_grad = torch.no_grad()
        with no_grad:
            plain = contrastive_loss(model, contextlib.nullcontext(), 0.05, q, qm, d, dm, owner)
            # A negative that is a copy of another pair's document makes every query's task harder.
            n, nm = pad_batch([[40, 42, 43], [70, 71, 90], [11, 12, 14, 15]])
            harder = contrastive_loss(model, contextlib.nullcontext(), 0.05, q, qm, d, dm, owner, n, nm, torch.tensor([1, 2, 0]))
            self.assertGreater(float(harder), float(plain))
            # A negative of the query's own paper is not counted against it: with the positives
            # again as negatives, each query meets the other papers' documents twice, its own once.
            own = contrastive_loss(model, contextlib.nullcontext(), 0.05, q, qm, d, dm, owner, d, dm, owner)
            pair = (model(q, qm) @ model(d, dm).T) / 0.05
            labels = torch.arange(3)
            hard = pair.masked_fill(torch.eye(3, dtype=torch.bool), float("-inf"))
            expected = (F.cross_entropy(torch.cat([pair, hard], dim=1), labels) + F.cross_entropy(pair.T, labels)) / 2
            self.assertAlmostEqual(float(own), float(expected), places=5)


class TrainingRunTest(unittest.TestCase):
    def run_train(self, run: Path, data: Path, *extra: str) -> list[dict]:
        cmd = [sys.executable, str(HERE / "train.py"), "--run-dir", str(run), "--data", str(data), "--batch", "8",
               "--pairs", "48", "--warmup", "1", "--eval-every", "100", "--dev-size", "16", "--workers", "0", *extra]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        return [json.loads(line) for line in out.splitlines() if line.startswith("{")]

    def test_a_run_in_two_parts_ends_where_one_run_ends(self) -> None:
        for kind, extra in (("pairs", ()), ("papers", ()), ("papers", ("--hard-negatives",))):
            with self.subTest(kind, extra=extra):
                self.two_parts(kind, *extra)

    def two_parts(self, kind: str, *extra: str) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "data"
            data.mkdir()
            synthetic_data(data, 64)
            synthetic_papers(data, 40)
            np.array([[(i + k) % 40 for k in range(1, 6)] for i in range(40)], dtype="<i4").tofile(data / "negatives-train.bin")
            (data / "manifest.json").write_text(json.dumps({"negatives": {"perPaper": 5}}))
            kind_args = ("--data-kind", kind, *extra)
            whole = self.run_train(Path(tmp) / "whole", data, *kind_args)
            self.assertEqual(whole[-1]["event"], "finished")
            first = self.run_train(Path(tmp) / "parts", data, *kind_args, "--part-steps", "3")
            self.assertEqual(first[-1]["event"], "stopped")
            self.assertEqual(first[-1]["step"], 3)
            second = self.run_train(Path(tmp) / "parts", data, *kind_args)
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
