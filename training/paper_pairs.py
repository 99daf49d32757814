"""Pairs drawn afresh each pass from papers-train.bin (see encodePaper in pairs.ts).

With the fixed pairs of pairs-train.bin, every pass asks the same sentence of each abstract; here
each pass draws the inverse-cloze sentence again, so passes over the same papers still teach
something new. A batch depends only on (seed, step): a resumed run draws what an uninterrupted one
would have.

Slots: every paper gives a title pair (title -> the abstract's first passage without the title),
every paper with an eligible sentence also an ICT pair (a sentence -> "Title. " + the rest, packed
as whole sentences into the 128-token window, the sentence removed).
"""
from __future__ import annotations

import lzma
from pathlib import Path

import numpy as np
import torch

from model import pad_batch

Q_MAX, D_MAX = 48, 128


class PaperPieces:
    """The tokenised papers: per paper its title, prefix and sentences as slices of one id array."""

    def __init__(self, values: np.ndarray) -> None:
        self.tokens = values
        titles, prefixes, first_sentence, sentence_starts, sentence_lens, sentence_query = [], [], [], [], [], []
        at, n = 0, len(values)
        while at < n:
            if at + 3 > n:
                raise ValueError(f"papers file ends inside a paper's header at value {at}")
            count, tlen, plen = (int(x) for x in values[at : at + 3])
            lens = values[at + 3 : at + 3 + count].astype(np.int64)
            if count < 1 or tlen < 1 or plen < 1 or len(lens) != count:
                raise ValueError(f"papers file: bad paper header at value {at}")
            ids_at = at + 3 + count
            titles.append((ids_at, tlen))
            prefixes.append((ids_at + tlen, plen))
            first_sentence.append(len(sentence_starts))
            s = ids_at + tlen + plen
            for length in lens:
                sentence_starts.append(s)
                sentence_lens.append(abs(int(length)))
                sentence_query.append(length < 0)
                s += abs(int(length))
            at = s
            if at > n:
                raise ValueError("papers file ends inside a paper's ids")
        first_sentence.append(len(sentence_starts))
        self.titles = np.array(titles, dtype=np.int64)
        self.prefixes = np.array(prefixes, dtype=np.int64)
        self.first_sentence = np.array(first_sentence, dtype=np.int64)
        self.sentence_starts = np.array(sentence_starts, dtype=np.int64)
        self.sentence_lens = np.array(sentence_lens, dtype=np.int64)
        self.sentence_query = np.array(sentence_query, dtype=bool)
        has_query = np.add.reduceat(self.sentence_query.astype(np.int64), self.first_sentence[:-1]) > 0
        # Slot i < papers: the title pair of paper i; then one ICT slot per paper that has a query sentence.
        self.slots = np.concatenate([np.arange(len(titles)), -1 - np.flatnonzero(has_query)])

    @classmethod
    def read(cls, file: Path) -> "PaperPieces":
        raw = lzma.open(file).read() if file.suffix == ".xz" else file.read_bytes()
        return cls(np.frombuffer(raw, dtype="<i2"))

    def __len__(self) -> int:
        return len(self.titles)

    def _ids(self, start: int, length: int) -> np.ndarray:
        return self.tokens[start : start + length]

    def _pack(self, lead: list[np.ndarray], sentences: list[int], room: int) -> np.ndarray:
        """lead, then whole sentences while they fit in room (the first always, cut to room)."""
        parts, used = list(lead), 0
        for k, j in enumerate(sentences):
            length = int(self.sentence_lens[j])
            if k > 0 and used + length > room:
                break
            parts.append(self._ids(int(self.sentence_starts[j]), length))
            used += length
        return np.concatenate(parts)[:D_MAX] if parts else np.zeros(0, dtype=np.int16)

    def _sentences(self, paper: int) -> range:
        return range(int(self.first_sentence[paper]), int(self.first_sentence[paper + 1]))

    def pair(self, slot: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, int]:
        """(query ids, document ids, paper index) of one slot."""
        paper = int(slot) if slot >= 0 else -1 - int(slot)
        if slot >= 0:
            return self._ids(*self.titles[paper])[:Q_MAX], self.document(paper, slot, rng), paper
        pick = self._query_sentence(paper, rng)
        return self._ids(int(self.sentence_starts[pick]), int(self.sentence_lens[pick]))[:Q_MAX], self._ict_doc(paper, pick), paper

    def _query_sentence(self, paper: int, rng: np.random.Generator) -> int:
        eligible = [j for j in self._sentences(paper) if self.sentence_query[j]]
        return eligible[int(rng.integers(len(eligible)))] if eligible else -1

    def _ict_doc(self, paper: int, pick: int) -> np.ndarray:
        """"Title. " and the abstract's sentences but `pick` (-1: all), packed into the window."""
        prefix = self._ids(*self.prefixes[paper])
        rest = [j for j in self._sentences(paper) if j != pick]
        return self._pack([prefix], rest, max(16, D_MAX - len(prefix)))

    def document(self, paper: int, like_slot: int, rng: np.random.Generator) -> np.ndarray:
        """A document of `paper` shaped as the documents of `like_slot`'s kind: the first passage
        without the title (a title slot; no draw), or "Title. " and the rest with one query sentence
        taken out (an ICT slot), so a negative differs from the positive in content, not in form."""
        if like_slot >= 0:
            return self._pack([], list(self._sentences(paper)), D_MAX)
        return self._ict_doc(paper, self._query_sentence(paper, rng))


class StepBatches(torch.utils.data.IterableDataset):
    """Batches for steps [start, end) over `size` items: pass e visits them in a permutation seeded
    by (seed, e), so a batch depends only on (seed, step) and resuming needs only the step. With
    several DataLoader workers, worker w makes the steps start + w, start + w + W, ... and the
    loader's round-robin hands them out in step order."""

    def __init__(self, size: int, batch: int, seed: int, start: int, end: int) -> None:
        self.size, self.batch, self.seed, self.start, self.end = size, batch, seed, start, end
        self._order: tuple[int, np.ndarray] | None = None

    def items_at(self, step: int) -> tuple[np.ndarray, int, int]:
        """The items of the step's batch, its pass and its place in the pass."""
        epoch, at = divmod(step, self.size // self.batch)
        if self._order is None or self._order[0] != epoch:
            self._order = (epoch, np.random.default_rng([self.seed, epoch]).permutation(self.size))
        return self._order[1][at * self.batch : (at + 1) * self.batch], epoch, at

    def batch_at(self, step: int) -> tuple[torch.Tensor, ...]:
        raise NotImplementedError

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        first, stride = (0, 1) if info is None else (info.id, info.num_workers)
        for step in range(self.start + first, self.end, stride):
            yield self.batch_at(step)


class PaperBatches(StepBatches):
    """Query and document ids and masks, and the paper of each pair, drawn from the papers; with
    `negatives` (rows of paper indices, best first, -1 for none: negatives-train.bin) also one hard
    negative document per pair and its paper, drawn from each row past its first `skip` (the
    closest are the likeliest to be relevant after all)."""

    def __init__(self, pieces: PaperPieces, batch: int, seed: int, start: int, end: int,
                 negatives: np.ndarray | None = None, skip: int = 0) -> None:
        super().__init__(len(pieces.slots), batch, seed, start, end)
        self.pieces = pieces
        if negatives is not None:
            if negatives.ndim != 2 or len(negatives) != len(pieces):
                raise ValueError(f"hard negatives: {len(negatives)} rows for {len(pieces)} papers (prepare the data again)")
            if not 0 <= skip < negatives.shape[1]:
                raise ValueError(f"negative skip must be from 0 to {negatives.shape[1] - 1}, got {skip}")
        self.negatives, self.skip = negatives, skip

    def negative_of(self, paper: int, rng: np.random.Generator) -> int:
        """One of the paper's hard negatives, or a random other paper where it has none."""
        row = self.negatives[paper, self.skip:]
        row = row[row >= 0]
        if len(row):
            return int(row[int(rng.integers(len(row)))])
        other = int(rng.integers(len(self.pieces) - 1))
        return other + (other >= paper)

    def batch_at(self, step: int) -> tuple[torch.Tensor, ...]:
        items, epoch, at = self.items_at(step)
        rng = np.random.default_rng([self.seed, epoch, at])
        slots = self.pieces.slots[items]
        pairs = [self.pieces.pair(int(s), rng) for s in slots]
        q, qm = pad_batch([p[0] for p in pairs])
        d, dm = pad_batch([p[1] for p in pairs])
        out = (q, qm, d, dm, torch.tensor([p[2] for p in pairs]))
        if self.negatives is None:
            return out
        # Their own generator: the positive pairs stay what they are without negatives.
        neg_rng = np.random.default_rng([self.seed, epoch, at, 1])
        papers = [self.negative_of(p[2], neg_rng) for p in pairs]
        n, nm = pad_batch([self.pieces.document(j, int(s), neg_rng) for j, s in zip(papers, slots)])
        return (*out, n, nm, torch.tensor(papers))
