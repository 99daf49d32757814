#!/usr/bin/env bash
# Packs what training/gpu-run.sh needs into .gpu/ (ignored by git; name it in the device tool's
# carry): the papers (xz: 65 MB -> 23 MB, under the 64 MiB a device call carries with the
# repository), the dev pairs, the hard negatives (5.5 MB) with the manifest that describes them, and
# the pretrained starting weights in the shipped float16 layout.
set -euo pipefail
cd "$(dirname "$0")/.."
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo /.gpu/ >>.git/info/exclude
mkdir -p .gpu/data
xz -6 -T0 -c training/data/papers-train.bin >.gpu/data/papers-train.bin.xz.tmp
mv .gpu/data/papers-train.bin.xz.tmp .gpu/data/papers-train.bin.xz
cp training/data/dev-ict.bin training/data/negatives-train.bin training/data/manifest.json .gpu/data/
/usr/bin/python3 training/export.py --pretrained --model-id use-lite --out .gpu/use-lite
du -sh .gpu
