#!/usr/bin/env bash
# All nine stages of configs/gpu.yaml on a bare GPU box, in one command (issue 24):
#
#   bash bench/gpu_chain.sh [CONFIG] [WORKDIR]
#
# The box has torch, transformers and CUDA but none of prefect, mlflow, trl or pydantic, and no network.
# What it lacks travels with the repo as wheels in .whl/ and llama-cpp-python's sdist in .whl-src/
# (both git-ignored; `bench/gpu_wheels.sh` downloads them here). The engine runs without Prefect
# (`python -m zerollm run`), tracking is off by config, and the same stage code runs as on a CPU.
# At the end it prints the per-stage seconds and every model stage's headline numbers, and writes
# status.json (and the logs) to $OUT when the device tool sets it.
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=${1:-configs/gpu.yaml}
WORKDIR=${2:-/tmp/zerollm-gpu}
OUT=${OUT:-$WORKDIR/out}
SITE=/tmp/zerollm-site
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
t0=$(date +%s)
# a warm box keeps /tmp between calls: reuse what an earlier call installed and built there
[ -d "$SITE" ] && export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}"

if ! python3 -c "import trl, pydantic, datatrove, lm_eval" 2>/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" .whl/*.whl
  export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}"
fi
if ! python3 -c "import llama_cpp" 2>/dev/null; then
  # llama.cpp for the CPU (quantize converts on the CPU and evaluate scores the GGUF files there);
  # without build isolation, so the box's own cmake, ninja and scikit-build-core build it
  CMAKE_ARGS="-DLLAVA_BUILD=OFF" CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) \
    python3 -m pip install -q --no-index --no-deps --no-build-isolation --no-cache-dir --target "$SITE" \
    .whl-src/llama_cpp_python-*.tar.gz > "$OUT/llama_build.log" 2>&1 || { tail -30 "$OUT/llama_build.log"; exit 1; }
fi
export ZEROLLM_SDIST_DIR=$PWD/.whl-src  # the converter is read from the same sdist
t1=$(date +%s)
echo "set-up: $((t1 - t0)) s"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true

set +e
python3 -m zerollm run --config "$CONFIG" --workdir "$WORKDIR" > "$OUT/run.log" 2>&1
rc=$?
set -e
grep -E "^(collect|filter|dedup|tokenizer|pretrain|sft|rlhf|quantize|evaluate) +(ran|cached)|Error|error" "$OUT/run.log" | tail -40
t2=$(date +%s)
echo "chain: $((t2 - t1)) s, set-up and chain: $((t2 - t0)) s"
python3 -m zerollm status --workdir "$WORKDIR" > "$OUT/status.json"
python3 bench/gpu_chain_table.py "$OUT/status.json" --setup-seconds $((t1 - t0)) --chain-seconds $((t2 - t1)) \
  | tee "$OUT/table.md"
exit $rc
