#!/usr/bin/env bash
# Packs everything needed to run the CUDA tests and the GPU benchmark on a GPU machine without .NET into device/
# (git-ignored) at the repository root:
#   device/tests/       the built test assembly and its dependencies (Release)
#   device/bench/       the built benchmark (samples/Benchmarks)
#   device/dotnet-runtime.tgz   the .NET runtime (host + Microsoft.NETCore.App), from pack-dotnet-runtime.sh
#   device/run-tests.sh, device/run-bench.sh   entry points for the GPU machine
#   bash build/device/pack.sh [PACK_RUNTIME_SCRIPT]
set -euo pipefail
cd "$(dirname "$0")/../.."
pack_runtime=${1:-/work/shared/tools/pack-dotnet-runtime.sh}
out=device
rm -rf "$out/tests" "$out/bench"
mkdir -p "$out"
dotnet build -c Release Microsoft.ML.ConvNet.Tests -v q -nologo
dotnet build -c Release samples/Benchmarks -v q -nologo
cp -r Microsoft.ML.ConvNet.Tests/bin/Release/net10.0 "$out/tests"
cp -r samples/Benchmarks/bin/Release/net10.0 "$out/bench"
bash "$pack_runtime" "$out"

cat > "$out/env.sh" <<'SH'
# Sourced by the run scripts: unpacks the .NET runtime once and points ConvNetML at the CUDA libraries.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export DOTNET_ROOT=${DOTNET_ROOT_OVERRIDE:-/tmp/convnet-dotnet}
if [ ! -x "$DOTNET_ROOT/dotnet" ]; then
  mkdir -p "$DOTNET_ROOT" && tar xzf "$here/dotnet-runtime.tgz" -C "$DOTNET_ROOT"
fi
export PATH="$DOTNET_ROOT:$PATH" DOTNET_CLI_TELEMETRY_OPTOUT=1
# cuDNN, cuBLAS and NVRTC come from the Python environment's NVIDIA wheels (site-packages/nvidia/*/lib) unless
# CONVNET_CUDA_PATH names their folder(s); the driver (libcuda.so.1) comes from the system.
if [ -z "${CONVNET_CUDA_PATH:-}" ] && [ -z "${CONVNET_PYTHON:-}" ]; then
  export CONVNET_PYTHON=${VIRTUAL_ENV:-$(command -v python3 || true)}
fi
SH
cat > "$out/run-tests.sh" <<'SH'
#!/usr/bin/env bash
# Runs the CUDA tests (default filter FullyQualifiedName~Cuda); extra arguments go to the test runner.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$here/tests"
if [ $# -eq 0 ]; then set -- --filter "FullyQualifiedName~Cuda"; fi
exec dotnet Microsoft.ML.ConvNet.Tests.dll "$@"
SH
cat > "$out/run-bench.sh" <<'SH'
#!/usr/bin/env bash
# Runs the GPU benchmark side by side with PyTorch: bash device/run-bench.sh [--steps N] [--python PATH]
set -euo pipefail
source "$(dirname "$0")/env.sh"
exec bash "$here/../build/bench/run_gpu.sh" --bench "dotnet $here/bench/Benchmarks.dll" "$@"
SH
chmod +x "$out/run-tests.sh" "$out/run-bench.sh"
echo "packed into $out/ ($(du -sh "$out" | cut -f1)); on the GPU machine: bash device/run-tests.sh, bash device/run-bench.sh --python /path/to/venv/bin/python"
