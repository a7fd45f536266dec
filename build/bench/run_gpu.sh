#!/usr/bin/env bash
# GPU benchmark: PyTorch and ConvNetML back to back on the same GPU, ResNet-18 training and inference at 224x224
# (batch 128) and 32x32 (batch 256) in fp32, TF32 and bf16 autocast; prints ours / PyTorch with the targets
# (training >= 0.9, inference >= 1.0).
#   bash build/bench/run_gpu.sh [--steps N] [--python PATH] [--bench "CMD"]
# --python: a python with CUDA PyTorch and torchvision (default: python3). Its venv's site-packages/nvidia/*/lib
#   also supplies cuDNN/cuBLAS/NVRTC to ConvNetML (CONVNET_PYTHON is set to it).
# --bench: how to start the .NET side (default: dotnet run of samples/Benchmarks; on a machine without the SDK, e.g.
#   "dotnet /path/Benchmarks.dll" with a packed runtime, see build/device/README.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
steps=50
python=python3
bench=""
while [ $# -gt 0 ]; do
  case "$1" in
    --steps) steps=$2; shift 2 ;;
    --python) python=$2; shift 2 ;;
    --bench) bench=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
if [ -z "$bench" ]; then
  dotnet build -c Release samples/Benchmarks -v q -nologo >/dev/null
  bench="dotnet run -c Release --no-build --project samples/Benchmarks --"
fi
export CONVNET_PYTHON=${CONVNET_PYTHON:-$(command -v "$python")}

torch_out=$("$python" build/bench/gpu_torch_bench.py --steps "$steps")
ours_out=$($bench --mode gpu --steps "$steps")

"$python" - "$torch_out" "$ours_out" <<'PY'
import json, sys
torch = {j["workload"]: j for j in map(json.loads, sys.argv[1].splitlines())}
ours = {j["workload"]: j for j in map(json.loads, filter(None, sys.argv[2].splitlines()))}
try:
    import torch as t
    gpu = t.cuda.get_device_name(0)
    print(f"GPU: {gpu}; PyTorch {t.__version__}, cuDNN {t.backends.cudnn.version()}")
except Exception:
    pass
print(f"{'workload':<28}{'batch':>6}{'ours img/s':>12}{'PyTorch img/s':>15}{'ratio':>7}{'target':>8}  ")
for w, r in torch.items():
    o = ours.get(w)
    target = 0.9 if w.startswith("train/") else 1.0
    if o is None:
        print(f"{w:<28}{r['batch']:>6}{'-':>12}{r['imagesPerSecond']:>15.0f}{'-':>7}{target:>8.1f}  missing")
        continue
    ratio = o["imagesPerSecond"] / r["imagesPerSecond"]
    print(f"{w:<28}{r['batch']:>6}{o['imagesPerSecond']:>12.0f}{r['imagesPerSecond']:>15.0f}{ratio:>7.2f}{target:>8.1f}  {'ok' if ratio >= target else 'below target'}")
PY
