#!/usr/bin/env bash
# One command for a machine with an NVIDIA GPU and TensorRT 10.x or 11.x (headers, libraries and
# trtexec): builds both plugin flavours and runs every check that needs the GPU, then writes the
# figures with the GPU's name to trt-plugins/BENCHMARKS.md.
#
#   TENSORRT_ROOT=/opt/TensorRT-11.2 trt-plugins/run_trt_checks.sh
#
# Needs: nvidia-smi, cmake >= 3.24, nvcc, trtexec (on PATH, or $TENSORRT_ROOT/bin), python3 with
# numpy, onnx, onnxruntime. Optional: JDK 25 for the whole-model step (it converts a fixture).
# TENSORRT_ROOT may be omitted for Debian/Ubuntu packages (headers in /usr/include/x86_64-linux-gnu).
# Optional environment: TRTEXEC (path), SKETCHRT_TRT_WORK (work folder, default
# trt-plugins/build-gpu/checks), SKETCHRT_TRT_REPORT (default trt-plugins/BENCHMARKS.md),
# SKETCHRT_CLI (default ./sketchrt), SKETCHRT_TRT_TIME_FIXTURES ("name:N:K:G ..." timing layers).
#
# Steps (each prints PASS, FAIL or SKIP with the reason; exit status 0 only if none failed):
#  1. build trt-plugins/build-gpu against TENSORRT_ROOT and run its ctest (rules, dispatch, registry
#     tests against the installed libnvinfer, both loading styles)
#  2. layer correctness: engines for SketchMatMul layer fixtures built by trtexec, loading the plugin
#     through --dynamicPlugins (loadLibrary) and --staticPlugins (self-registration); outputs for
#     1, 16, 17 and 512 rows compared with ONNX Runtime CPU and float64 (DESIGN §5 tolerances);
#     the engine must fail to load without the plugin (else the parser used the ONNX function)
#  3. decode timing: 16 chained Llama-3-8B-shaped layers (more weight bytes than the L2 holds),
#     sketch engine vs dense fp16 engine of the same weights, 1/4/16 rows, CUDA graphs, GPU time
#     min/median/max per layer, achieved bandwidth, speed-up
#  4. whole model: converts testdata/fixtures/llama3_gqa_g4_bf16 (fp16) and builds a TensorRT engine
#     with the plugin (dynamic batch/sequence/past), which must not load without the plugin
set -euo pipefail

cd "$(dirname "$0")/.."
REPO=$PWD
WORK=${SKETCHRT_TRT_WORK:-$REPO/trt-plugins/build-gpu/checks}
BUILD=$REPO/trt-plugins/build-gpu
TOOL=(python3 "$REPO/trt-plugins/tools/sketch_layer_fixture.py")
REPORT=${SKETCHRT_TRT_REPORT:-$REPO/trt-plugins/BENCHMARKS.md}
SKETCHRT_CLI=${SKETCHRT_CLI:-./sketchrt}  # the sketchrt command (for `convert`)
mkdir -p "$WORK"

declare -a SUMMARY=()
FAILED=0
record() {  # record STATUS "what": one summary line per step
  SUMMARY+=("| $1 | $2 |")
  echo "== $1: $2"
  if [[ $1 == FAIL ]]; then FAILED=1; fi
}
die() {
  echo "run_trt_checks: $*" >&2
  exit 1
}

# ---- Machine -----------------------------------------------------------------------------------
command -v nvidia-smi >/dev/null || die "nvidia-smi not found: this script needs a machine with an NVIDIA GPU"
GPU=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | head -1) ||
  die "nvidia-smi found no GPU"
GPU_NAME=${GPU%%,*}
echo "GPU: $GPU"

if [[ -z ${TENSORRT_ROOT:-} ]]; then
  if [[ -f /usr/include/x86_64-linux-gnu/NvInferRuntime.h ]]; then
    # Debian packages: make the include/ + lib/ folder the build expects.
    TENSORRT_ROOT=$WORK/tensorrt-root
    mkdir -p "$TENSORRT_ROOT"
    ln -sfn /usr/include/x86_64-linux-gnu "$TENSORRT_ROOT/include"
    ln -sfn /usr/lib/x86_64-linux-gnu "$TENSORRT_ROOT/lib"
  else
    die "set TENSORRT_ROOT to a TensorRT 10/11 folder with include/ and lib/"
  fi
fi
[[ -f $TENSORRT_ROOT/include/NvInferRuntime.h ]] || die "TENSORRT_ROOT=$TENSORRT_ROOT has no include/NvInferRuntime.h"
TRTEXEC=${TRTEXEC:-$(command -v trtexec || true)}
if [[ -z $TRTEXEC && -x $TENSORRT_ROOT/bin/trtexec ]]; then TRTEXEC=$TENSORRT_ROOT/bin/trtexec; fi
[[ -n $TRTEXEC && -x $TRTEXEC ]] || die "trtexec not found (put it on PATH, set TRTEXEC, or use \$TENSORRT_ROOT/bin)"
export LD_LIBRARY_PATH=$TENSORRT_ROOT/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
"${TOOL[@]}" --help >/dev/null 2>&1 || die "python3 with numpy, onnx and onnxruntime is needed (pip install numpy onnx onnxruntime)"

TRT_VERSION=$("$TRTEXEC" --help 2>&1 | sed -n 's/.*TensorRT v\([0-9]*\).*/\1/p' | head -1)
TRT_MAJOR=$((TRT_VERSION / 10000))
echo "trtexec: $TRTEXEC (TensorRT ${TRT_VERSION:-unknown})"
# TensorRT 10 builds ONNX networks weakly typed unless told; 11 is always strongly typed.
TYPING=()
if ((TRT_MAJOR == 10)); then TYPING=(--stronglyTyped); fi

# ---- 1. Build and CPU-side tests against the installed TensorRT ----------------------------------
if cmake -S trt-plugins -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DTENSORRT_ROOT="$TENSORRT_ROOT" &&
  cmake --build "$BUILD" -j"$(nproc)" && ctest --test-dir "$BUILD" --output-on-failure; then
  record PASS "build both flavours against $TENSORRT_ROOT; ctest (rules, dispatch, registry self + dynamic)"
else
  record FAIL "build or ctest in $BUILD"
  printf '%s\n' "${SUMMARY[@]}"
  exit 1
fi
PLUGIN_DYNAMIC=$BUILD/libsketchrt_trt_plugin_dynamic.so
PLUGIN_SELF=$BUILD/libsketchrt_trt_plugin.so

# build_engine ONNX ENGINE LOG LOADING... -- extra trtexec flags
build_engine() {
  local onnx=$1 engine=$2 log=$3
  shift 3
  "$TRTEXEC" --onnx="$onnx" --saveEngine="$engine" --skipInference "${TYPING[@]}" "$@" >"$log" 2>&1
}

# Did the parser use the plugin rather than the ONNX function? Then the engine cannot be loaded
# without the plugin library: loading it bare must fail.
needs_plugin() {
  local engine=$1 log=$2
  ! "$TRTEXEC" --loadEngine="$engine" --skipInference >"$log" 2>&1
}

# Plugin layers in the engine's layer list (informative: the JSON layout is TensorRT's).
plugin_layer_count() {
  local engine=$1 loading=$2 log=$3
  "$TRTEXEC" --loadEngine="$engine" "$loading" --skipInference --profilingVerbosity=detailed \
    --exportLayerInfo="$log.json" >"$log" 2>&1 || { echo "?"; return; }
  grep -o 'PluginV3' "$log.json" | wc -l
}

# ---- 2. Layer correctness ----------------------------------------------------------------------------
declare -a CORRECTNESS=()
ROWS=(1 16 17 512)
# name:N:K:groups:bits:dtype:bias — decode/prefill tensor-core kernels (fp16, K/G % 32 == 0) and the
# generic kernel (fp32 activations).
FIXTURES=("g1_b4_fp16:1024:4096:1:4:fp16:" "g8_b3_fp16_bias:1024:4096:8:3:fp16:--bias" "g4_b4_fp32:512:1024:4:4:fp32:")
for spec in "${FIXTURES[@]}"; do
  IFS=: read -r name n k groups bits dtype bias <<<"$spec"
  dir=$WORK/$name
  # shellcheck disable=SC2086 # $bias is empty or one flag
  "${TOOL[@]}" make --out "$dir" --n "$n" --k "$k" --groups "$groups" --bits "$bits" --dtype "$dtype" \
    --rows "$(IFS=,; echo "${ROWS[*]}")" $bias
  for loading in "--dynamicPlugins=$PLUGIN_DYNAMIC" "--staticPlugins=$PLUGIN_SELF"; do
    how=${loading%%=*}
    how=${how#--}
    engine=$dir/sketch.$how.engine
    if ! build_engine "$dir/sketch.onnx" "$engine" "$dir/build.$how.log" "$loading" \
      --minShapes=X:1x1x"$k" --optShapes=X:1x16x"$k" --maxShapes=X:1x512x"$k"; then
      record FAIL "$name: engine build with $how (see $dir/build.$how.log)"
      continue
    fi
    if ! needs_plugin "$engine" "$dir/bare.$how.log"; then
      record FAIL "$name ($how): the engine loads without the plugin: the parser used the ONNX function"
      continue
    fi
    ok=1
    for m in "${ROWS[@]}"; do
      out=$dir/trt.$how.$m.json
      if "$TRTEXEC" --loadEngine="$engine" "$loading" --shapes=X:1x"$m"x"$k" --loadInputs=X:"$dir/x_$m.bin" \
        --exportOutput="$out" --iterations=1 --warmUp=0 --duration=0 >"$dir/run.$how.$m.log" 2>&1; then
        line=$("${TOOL[@]}" compare --trt "$out" --dir "$dir" --rows "$m" --dtype "$dtype") || ok=0
      else
        line="FAILED: trtexec run (see $dir/run.$how.$m.log)"
        ok=0
      fi
      echo "$name $how $line"
      CORRECTNESS+=("| $name | $how | $line |")
    done
    if ((ok)); then record PASS "$name via $how: ${#ROWS[@]} row counts within tolerance"; else record FAIL "$name via $how"; fi
  done
done

# ---- 3. Decode timing vs dense fp16 -----------------------------------------------------------------
declare -a TIMING=()
TIME_ROWS=(1 4 16)
LAYERS=16
# name:N:K:groups — q_proj-like square layers (G=1 and G=8) and the MLP pair (up 14336x4096, down 4096x14336)
read -r -a TIME_FIXTURES <<<"${SKETCHRT_TRT_TIME_FIXTURES:-q4096_g1:4096:4096:1 q4096_g8:4096:4096:8 mlp14336_g1:14336:4096:1}"
for spec in "${TIME_FIXTURES[@]}"; do
  IFS=: read -r name n k groups <<<"$spec"
  dir=$WORK/time_$name
  "${TOOL[@]}" make --out "$dir" --n "$n" --k "$k" --groups "$groups" --bits 4 --dtype fp16 --layers "$LAYERS" \
    --rows "$(IFS=,; echo "${TIME_ROWS[*]}")" --no-reference
  shapes=(--minShapes=X:1x1x"$k" --optShapes=X:1x1x"$k" --maxShapes=X:1x16x"$k")
  if ! build_engine "$dir/sketch.onnx" "$dir/sketch.engine" "$dir/build.sketch.log" \
    "--dynamicPlugins=$PLUGIN_DYNAMIC" "${shapes[@]}" ||
    ! build_engine "$dir/dense.onnx" "$dir/dense.engine" "$dir/build.dense.log" "${shapes[@]}"; then
    record FAIL "timing $name: engine build (see $dir/build.*.log)"
    continue
  fi
  # Bytes one layer must read at least: codes + LUT (sketch) or the fp16 weight (dense). Layers
  # alternate N x K and K x N, which move the same number of bytes.
  sketch_bytes=$((n * k / 2 + n * groups * 16 * 2))
  dense_bytes=$((n * k * 2))
  for m in "${TIME_ROWS[@]}"; do
    declare -A med=()
    row="| $name | $m"
    for kind in sketch dense; do
      plugin=()
      if [[ $kind == sketch ]]; then plugin=("--dynamicPlugins=$PLUGIN_DYNAMIC"); fi
      log=$dir/time.$kind.$m.log
      if ! "$TRTEXEC" --loadEngine="$dir/$kind.engine" "${plugin[@]}" --shapes=X:1x"$m"x"$k" --useCudaGraph \
        --noDataTransfers --warmUp=500 --duration=5 --iterations=200 >"$log" 2>&1; then
        record FAIL "timing $name $kind rows=$m (see $log)"
        continue 2
      fi
      read -r tmin tmed tmax < <("${TOOL[@]}" timing --log "$log")
      bytes=$sketch_bytes
      if [[ $kind == dense ]]; then bytes=$dense_bytes; fi
      # per layer, in microseconds; bandwidth from the median
      row+=$(awk -v a="$tmin" -v b="$tmed" -v c="$tmax" -v l="$LAYERS" -v by="$bytes" \
        'BEGIN { printf " | %.2f / %.2f / %.2f | %.0f", a*1000/l, b*1000/l, c*1000/l, by/(b/1000/l)/1e9 }')
      med[$kind]=$tmed
    done
    row+=$(awk -v s="${med[sketch]}" -v d="${med[dense]}" 'BEGIN { printf " | %.2fx |", d/s }')
    TIMING+=("$row")
    echo "$row"
  done
  record PASS "timing $name ($LAYERS layers, rows ${TIME_ROWS[*]})"
done

# ---- 4. Whole model through the converter ----------------------------------------------------------------
WHOLE="not run"
FIXTURE=testdata/fixtures/llama3_gqa_g4_bf16
# shellcheck disable=SC1091 # only probes for a JDK 25, in a subshell
if [[ -x ${SKETCHRT_CLI%% *} ]] && (source .ci/java-home.sh >/dev/null 2>&1); then
  model_dir=$WORK/llama3_gqa_g4_fp16
  rm -rf "$model_dir"
  # shellcheck disable=SC2086 # SKETCHRT_CLI may be a command with arguments
  if $SKETCHRT_CLI convert --model "$FIXTURE/hf" --sketch "$FIXTURE/sketch.pkl" --tuned "$FIXTURE/tuned" \
    --out "$model_dir" --dtype fp16 >"$WORK/convert.log" 2>&1; then
    mapfile -t profile < <("${TOOL[@]}" shapes --model "$model_dir/model.onnx" --max-seq 64 --max-past 64)
    nodes=$(python3 -c "import onnx,sys; m=onnx.load(sys.argv[1], load_external_data=False); \
print(sum(n.op_type == 'SketchMatMul' for n in m.graph.node))" "$model_dir/model.onnx")
    if build_engine "$model_dir/model.onnx" "$model_dir/model.engine" "$WORK/build.model.log" \
      "--dynamicPlugins=$PLUGIN_DYNAMIC" --minShapes="${profile[0]}" --optShapes="${profile[1]}" \
      --maxShapes="${profile[2]}"; then
      layers=$(plugin_layer_count "$model_dir/model.engine" "--dynamicPlugins=$PLUGIN_DYNAMIC" "$WORK/layers.model")
      WHOLE="engine built for $nodes SketchMatMul nodes; 'PluginV3' appears $layers times in its layer list"
      if needs_plugin "$model_dir/model.engine" "$WORK/bare.model.log"; then
        record PASS "whole model: $WHOLE; it does not load without the plugin"
      else
        record FAIL "whole model: $WHOLE, but it loads without the plugin: the ONNX functions were used"
      fi
    else
      WHOLE="engine build failed (see $WORK/build.model.log)"
      record FAIL "whole model: $WHOLE"
    fi
  else
    WHOLE="conversion failed (see $WORK/convert.log)"
    record FAIL "whole model: $WHOLE"
  fi
else
  WHOLE="skipped: no JDK 25 or no $SKETCHRT_CLI for convert"
  record SKIP "whole model: $WHOLE"
fi

# ---- Report ------------------------------------------------------------------------------------------
{
  echo "# TensorRT plugin: GPU checks"
  echo
  echo "Written by \`trt-plugins/run_trt_checks.sh\` on $(date -u +%Y-%m-%d)."
  echo
  echo "- GPU: $GPU"
  echo "- TensorRT: ${TRT_VERSION:-unknown} (trtexec \`$TRTEXEC\`), headers and libraries from \`$TENSORRT_ROOT\`"
  echo "- CUDA (nvcc): $(nvcc --version | sed -n 's/.*release \([0-9.]*\).*/\1/p')"
  echo
  echo "## Steps"
  echo
  echo "| result | step |"
  echo "|---|---|"
  printf '%s\n' "${SUMMARY[@]}"
  echo
  echo "## Layer correctness (trtexec output vs ONNX Runtime CPU and float64)"
  echo
  echo "Fixtures: N x K, groups, bits, activation dtype; X [1, rows, K] uniform in [-1, 1); tolerances of DESIGN §5."
  echo
  echo "| fixture | plugin loading | result |"
  echo "|---|---|---|"
  printf '%s\n' "${CORRECTNESS[@]}"
  echo
  echo "## Decode: sketch plugin vs dense fp16 ($GPU_NAME)"
  echo
  echo "$LAYERS chained layers per engine (N x K, then K x N), bits 4, fp16 activations and LUTs, CUDA graphs,"
  echo "no host transfers; trtexec's GPU compute time divided by $LAYERS: **min / median / max µs per layer**;"
  echo "GB/s = least bytes a layer must read (codes + LUTs, or the fp16 weight) / median time."
  echo
  echo "| fixture (N x K, G) | rows | sketch µs | sketch GB/s | dense fp16 µs | dense GB/s | dense / sketch (median) |"
  echo "|---|---|---|---|---|---|---|"
  printf '%s\n' "${TIMING[@]}"
  echo
  echo "## Whole model"
  echo
  echo "$FIXTURE converted with \`--dtype fp16\`: $WHOLE. Logits and greedy tokens against ONNX Runtime"
  echo "CPU need the Java \`trt\` backend (\`sketchrt build-engine\`), which does not exist yet."
} >"$REPORT"
echo
printf '%s\n' "${SUMMARY[@]}"
echo "wrote $REPORT"
exit "$FAILED"
