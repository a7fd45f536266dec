#!/usr/bin/env bash
# Runs the PyTorch/NumPy side (build/bench/torch_bench.py) and ConvNetML's (samples/Benchmarks) back to back on the
# same workloads, 2 threads each, warm-up excluded, and prints a table of ours against the peer.
#   bash build/bench/run.sh [--only PREFIX[,PREFIX...]] [--steps N] [--warmup N] [--warmup-seconds S] [--accuracy [--epochs N]]
#                           [--save FILE]
#   bash build/bench/run.sh --table FILE
#     --only      workloads whose names start with a prefix, e.g. --only sgemm/1024,train/smallcnn
#     --steps     timed iterations of every workload (quick runs); --warmup untimed ones before them
#     --warmup-seconds  least time whole networks warm up for on each side (default 10)
#     --accuracy  also train the small CNN on Fashion-MNIST on both sides and compare test accuracy (minutes)
#     --save      also write every JSON line of both sides to FILE
#     --table     print the table of a run saved with --save, without running anything
# Needs Debian's python3-torch and python3-torchvision, and libopenblas0-pthread for numpy's BLAS.
# The method is described in docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/../.."

only="" common=() accuracy=0 save="" table=""
while [ $# -gt 0 ]; do
    case "$1" in
        --only) only=$2; shift 2 ;;
        --steps | --warmup | --warmup-seconds | --epochs) common+=("$1" "$2"); shift 2 ;;
        --accuracy) accuracy=1; shift ;;
        --save) save=$2; shift 2 ;;
        --table) table=$2; shift 2 ;;
        -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

if [ -n "$table" ]; then
    results=$table
else
    # Two threads on both sides: OpenMP/oneDNN and OpenBLAS on the peer's, the runtime's processor count on ours.
    # numpy and torch take the OpenBLAS of libopenblas0-pthread whatever the libblas.so.3 alternative points at.
    export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 MKL_NUM_THREADS=2 DOTNET_PROCESSOR_COUNT=2
    export LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

    dotnet build -c Release samples/Benchmarks -v q -nologo >/dev/null
    ours=(dotnet samples/Benchmarks/bin/Release/net10.0/Benchmarks.dll)
    peer=(/usr/bin/python3 build/bench/torch_bench.py --threads 2)

    # The selection for one group: the group itself, the user's prefixes inside it, or nothing.
    filter() {
        local group=$1 out=() p
        [ -z "$only" ] && { echo "$group"; return; }
        IFS=, read -ra prefixes <<<"$only"
        for p in "${prefixes[@]}"; do
            if [[ $p == "$group"* ]]; then out+=("$p"); elif [[ $group == "$p"* ]]; then out+=("$group"); fi
        done
        (IFS=,; echo "${out[*]}")
    }

    # Each group runs in a fresh process per side, the peer first and ours right after, so that both see the same
    # machine load; each memory group must be alone in its process for the peak to be its own. The infer224 rows also
    # carry ONNX Runtime's figure, measured by our process on the exported ONNX of the same network.
    groups=(sgemm conv3x3 depthwise3x3 train/lenet5 infer/lenet5 train/smallcnn infer/smallcnn train/resnet18
            infer/resnet18 train224/resnet18 train224/resnet50 train224/mobilenet_v2 infer224/resnet18 infer224/resnet50
            infer224/mobilenet_v2 infer224/efficientnet_b0 finetune224 memory/resnet18 memory/resnet50-224)
    [ "$accuracy" = 1 ] && groups+=(accuracy)
    results=$(mktemp)
    trap 'rm -f "$results"' EXIT
    load() { echo "{\"load\": \"$(cut -d' ' -f1-3 /proc/loadavg)\", \"when\": \"$1\"}" >>"$results"; }
    load start
    for group in "${groups[@]}"; do
        sel=$(filter "$group")
        [ -z "$sel" ] && continue
        case "$group" in memory*) mode=memory ;; accuracy) mode=accuracy ;; *) mode=throughput ;; esac
        echo "running $sel ($mode): peer, then ours" >&2
        "${peer[@]}" --mode "$mode" --only "$sel" ${common[@]+"${common[@]}"} >>"$results"
        "${ours[@]}" --mode "$mode" --only "$sel" ${common[@]+"${common[@]}"} >>"$results"
    done
    load end
    if [ -n "$save" ]; then
        cp "$results" "$save.tmp" && mv "$save.tmp" "$save"
    fi
fi

/usr/bin/python3 - "$results" <<'PY'
import json, sys

infos, rows, order, load = {}, {}, [], {}
side = None
for line in open(sys.argv[1]):
    j = json.loads(line)
    if "load" in j:
        load[j["when"]] = j["load"]
        continue
    if "info" in j:
        side = j["info"]["side"]
        infos.setdefault(side, {}).update(j["info"])
        continue
    rows[(j.get("side", side), j["workload"])] = j
    if j["workload"] not in order:
        order.append(j["workload"])
if not rows:
    sys.exit("run.sh: no workload matched --only")

o, p = infos.get("ours", {}), infos.get("peer", {})
if "machine" in p:
    print(f"machine: {p['machine']}")
if o:
    print(f"ours: ConvNetML {o['library']} on {o['runtime']}, {o['threads']} threads, "
          f"Vector512 {'accelerated' if o['vector512'] else 'not accelerated'}")
if p:
    blas = p["numpyBlas"]
    if "openblas" not in blas:
        sys.exit(f"run.sh: numpy does not use OpenBLAS (loaded: {blas['libraries']}); install libopenblas0-pthread")
    print(f"peer: PyTorch {p['torch']} (oneDNN {'on' if p['mkldnn'] else 'off'}), torchvision {p['torchvision']}, "
          f"{p['threads']} threads; SGEMM: numpy {p['numpy']} with {blas['openblas']}, {blas['openblasThreads']} threads "
          f"({', '.join(blas['libraries'])})")
if load:
    print(f"load average (1, 5, 15 min): {load.get('start', '?')} at the start, {load.get('end', '?')} at the end")
ort_rows = {w: j for (s, w), j in rows.items() if s == "onnxruntime"}
if ort_rows:
    ort = next(iter(ort_rows.values()))["detail"].get("onnxRuntime", "?")
    print(f"ONNX Runtime {ort} (in our process, {o.get('threads', '?')} intra-op threads, all graph optimisations) "
          "on the exported ONNX of the same network: column ORT")
print("ratio = ours / peer: higher is better, except MiB and × rows (lower is better); accuracy rows give ours − peer in points")
print()
ort_head = f" {'ORT':>9} | {'÷ ORT':>6} |" if ort_rows else ""
ort_rule = f"{'-' * 10}:|{'-' * 7}:|" if ort_rows else ""
print(f"| {'workload':<30} | {'unit':<16} | {'ours':>9} | {'peer':>9} | {'peer is':<14} | {'ratio':>8} |{ort_head}")
print(f"|{'-' * 32}|{'-' * 18}|{'-' * 10}:|{'-' * 10}:|{'-' * 16}|{'-' * 9}:|{ort_rule}")
for w in order:
    ours, peer = rows.get(("ours", w)), rows.get(("peer", w))
    r = ours or peer
    unit = r["unit"]
    def fmt(v):
        if unit.startswith("%") or unit.startswith("×"):
            return f"{v:.2f}"
        return f"{v:,.0f}".replace(",", " ") if unit in ("images/s", "MiB") and v >= 100 else f"{v:.1f}"
    ov = fmt(ours["value"]) if ours else "—"
    pv = fmt(peer["value"]) if peer else "—"
    if ours and peer:
        if unit.startswith("%"):
            ratio = f"{ours['value'] - peer['value']:+.2f} pt"
        else:
            ratio = f"{ours['value'] / peer['value']:.2f}" if peer["value"] else "—"
    else:
        ratio = "—"
    who = "numpy/OpenBLAS" if w.startswith("sgemm") else "PyTorch"
    if ours and unit.startswith("×") and peer:
        ratio = f"{ours['value'] / peer['value']:.2f}"
    ort_cells = ""
    if ort_rows:
        t = ort_rows.get(w)
        ort_cells = (f" {fmt(t['value']):>9} | {ours['value'] / t['value']:>6.2f} |" if t and ours
                     else f" {'—':>9} | {'—':>6} |")
    print(f"| {w:<30} | {unit:<16} | {ov:>9} | {pv:>9} | {who:<14} | {ratio:>8} |{ort_cells}")
    if ours and peer:
        po, pp = ours["detail"].get("parameters"), peer["detail"].get("parameters")
        if po != pp:
            print(f"warning: {w}: ours has {po} parameters, the peer's network {pp}", file=sys.stderr)
PY
