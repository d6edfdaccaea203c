#!/usr/bin/env bash
# Installs dependencies, builds, and runs the main job on built-in data: the built-in example
# model evaluated in binary32, binary64 and exact arithmetic, with the distance of binary32 from
# the exact result. Outputs go to out/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset default
cmake --build --preset default --target torchlean
./build/torchlean demo --out out/demo
