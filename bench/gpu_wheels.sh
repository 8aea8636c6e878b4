#!/usr/bin/env bash
# Download, here, what bench/gpu_chain.sh installs on a bare GPU box (Python 3.12, x86-64, no network):
# the engine's needs that the box's image lacks, as wheels in .whl/, and llama-cpp-python's sdist (the
# hash-checked one `make setup` keeps) in .whl-src/. Both are git-ignored and travel with the device
# tool's `carry` (64 MiB in all; this set is ~44 MiB). The box already has torch, transformers,
# accelerate, numpy, pyarrow, pandas, safetensors, sentencepiece, tokenizers, cmake and ninja.
set -euo pipefail
cd "$(dirname "$0")/.."
for d in .whl .whl-src; do grep -qx "/$d/" .git/info/exclude || echo "/$d/" >> .git/info/exclude; done
mkdir -p .whl .whl-src
PKGS="pydantic==2.14.4 pydantic-core==2.50.5 annotated-types==0.8.0 typing-inspection==0.4.5
typing-extensions==4.16.0 trl==1.16.0 datasets==5.2.0 dill==0.4.1 multiprocess==0.70.19 xxhash==3.8.2
datatrove==0.10.1 orjson==3.13.0 loguru==0.8.0 datasketch==2.0.0 py3langid==0.4.0 lm-eval==0.4.13
gguf==0.19.0 diskcache==5.6.3 liger-kernel==0.8.5"
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d .whl $PKGS
# the sdist that `make setup` checked against infra/llama-cpp-sdist.txt, less what neither the build nor
# the GGUF converter reads (vocab test files, docs, tests, examples, the web UI): 73 MB -> ~8 MB
python3 - .venv/share/zerollm/llama_cpp_python-*.tar.gz .whl-src <<'PY'
import sys, tarfile
from pathlib import Path
src, dest = Path(sys.argv[1]), Path(sys.argv[2]) / Path(sys.argv[1]).name
skip = ("/.git", "/models/", "/docs/", "/media/", "/tests/", "/examples/", "/benches/", "/tools/server/",
        "/tools/ui/")
with tarfile.open(src, "r:gz") as a, tarfile.open(dest, "w:gz") as b:
    for m in a.getmembers():
        rest = m.name.partition("/")[2]  # below the sdist's top folder
        inner = rest.removeprefix("vendor/llama.cpp") if rest.startswith("vendor/llama.cpp/") else ""
        if rest.startswith(".git") or inner.startswith(skip):
            continue
        b.addfile(m, a.extractfile(m) if m.isfile() else None)
PY
du -sh .whl .whl-src
