#!/usr/bin/env bash
# Runs the PyTorch and ConvNetML throughput benchmarks back to back on the same workloads (2 threads each,
# warm-up excluded) and prints a table of ours / PyTorch.
#   bash build/bench/run.sh [--steps N]
# Needs Debian's python3-torch (apt-get install python3-torch) for the reference side.
set -euo pipefail
cd "$(dirname "$0")/../.."
steps=100
[ "${1:-}" = "--steps" ] && steps=$2
export OMP_NUM_THREADS=2 DOTNET_PROCESSOR_COUNT=2

dotnet build -c Release samples/Benchmarks -v q -nologo >/dev/null
torch_out=$(/usr/bin/python3 build/bench/torch_bench.py --threads 2 --steps "$steps")
ours_out=$(dotnet run -c Release --no-build --project samples/Benchmarks -- --steps "$steps")

/usr/bin/python3 - "$torch_out" "$ours_out" <<'PY'
import json, sys, platform, os
torch = {j["workload"]: j for j in map(json.loads, sys.argv[1].splitlines())}
ours = {j["workload"]: j for j in map(json.loads, sys.argv[2].splitlines())}
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
print(f"machine: {cpu}, {os.cpu_count()} cores; 2 threads each")
print(f"{'workload':<18}{'batch':>6}{'ours img/s':>14}{'PyTorch img/s':>16}{'ratio':>8}")
for w, t in torch.items():
    o = ours[w]
    print(f"{w:<18}{t['batch']:>6}{o['imagesPerSecond']:>14.0f}{t['imagesPerSecond']:>16.0f}{o['imagesPerSecond'] / t['imagesPerSecond']:>8.2f}")
PY
