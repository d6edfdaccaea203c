#!/usr/bin/env bash
# Installs every Debian package torchlean-cpp needs. Idempotent; run as root (or with sudo).
# `--bench` also installs what the benchmarks compare against (libtorch's C++ API).
set -euo pipefail

PACKAGES=(
  # build
  g++ cmake ninja-build pkg-config
  # test and bench
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  # libraries
  libgmp-dev libmpfr-dev nlohmann-json3-dev libopenblas-dev zlib1g-dev
  # ONNX interchange (protobuf schema and runtime)
  libonnx-dev libprotobuf-dev protobuf-compiler
  # data for the main job (Fashion-MNIST in IDX form)
  dataset-fashion-mnist
  # oracles for tests (never a runtime dependency)
  python3 python3-numpy python3-torch
  python3-onnx  # read only by the test oracle scripts/onnx_models.py
  # fuzzing (libFuzzer) and sanitizers
  clang libclang-rt-14-dev
)
if [ "${1:-}" = "--bench" ]; then
  PACKAGES+=(libtorch-dev)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup: installed ${missing[*]}"
