#!/usr/bin/env bash
# The main job: installs dependencies, builds, then trains an MLP (784-256-10, Adam, cosine
# schedule, 8 epochs, fast mode) on Fashion-MNIST from Debian's dataset-fashion-mnist with the
# compiled training step, and reports the test accuracy. It then certifies the first 100 test
# images at eps = 1/255 (CROWN, real and float32 semantics) and checks both certificates with the
# exact checker. Outputs go to out/fashion_mlp/ (model.json + model.safetensors, model.onnx,
# log.jsonl, curve.svg, metrics.json, checkpoint, cert_*.json, certify_*.json). The
# exact-arithmetic demo of the reference semantics follows (out/demo/). Nothing here needs
# ../shared/data. TORCHLEAN_MAIN_EPOCHS overrides the epoch count (the reference script
# scripts/train_reference.py runs PyTorch with the same settings).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset default
cmake --build --preset default --target torchlean
DATA=/usr/share/datasets/fashion-mnist
EPOCHS="${TORCHLEAN_MAIN_EPOCHS:-8}"
./build/torchlean train --data "$DATA" --model mlp:784-256-10 --optimizer adam --lr 0.001 \
  --schedule cosine --batch 64 --epochs "$EPOCHS" --mode fast --threads "$(nproc)" \
  --out out/fashion_mlp
./build/torchlean eval out/fashion_mlp/model.json --data "$DATA" --mode fast
# Certify the trained model on the first 100 test images at eps = 1/255 in both target
# semantics, then replay each certificate with the independent exact checker.
RUN=out/fashion_mlp
for SEM in real float32; do
  ./build/torchlean certify "$RUN/model.json" --weights "$RUN/model.safetensors" --data "$DATA" \
    --count 100 --eps 1/255 --clip 0,1 --method crown --semantics "$SEM" \
    --cert "$RUN/cert_$SEM.json" --summary-json "$RUN/certify_$SEM.json" | tail -2
  ./build/torchlean check-cert "$RUN/cert_$SEM.json" --model "$RUN/model.json" \
    --weights "$RUN/model.safetensors"
done
./build/torchlean demo --out out/demo
