#!/usr/bin/env bash
# Java runtime vs the Python training-time reference on the same inputs, model by model, then the
# tables and the decode-vs-context picture (python3 -m sketchrt_ref.bench.report).
#
#   validation/run_benchmarks.sh [MODEL ...]     MODEL: arith llama3 stories260K tinyllama (default: all)
#
# Results go to build/bench/ (java_MODEL.json, py_MODEL.json, *.log, report.md, decode_vs_context.png).
# Run it on an otherwise idle machine: both sides use every core. tinyllama takes ~30 min, most of
# it in the Python reference (it rebuilds all 1.1B weights from the sketch on every forward pass).
# SKETCHRT_BENCH_THREADS=N passes --threads N to the Java side.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
make -s python-env >&2  # the project-local build/venv with the Python reference
export PATH="$root/build/venv/bin:$PATH"
out="$root/build/bench"
models_dir="$out/models"
mkdir -p "$out" "$models_dir"
threads=(${SKETCHRT_BENCH_THREADS:+--threads "$SKETCHRT_BENCH_THREADS"})
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(arith llama3 stories260K tinyllama)

# name, source folder (hf/, sketch.pkl, tuned/), prompt length, new tokens, Java contexts, Java repeats,
# Python repeats, Python contexts. Sub-millisecond steps on the tiny models need many repeats for a stable median.
run_model() {
  local name="$1" src="$2" prompt="$3" new="$4" contexts="$5" jrep="$6" prep="$7" pycontexts="$8"
  local converted="$models_dir/$name"
  echo "== $name: converting $src"
  rm -rf "$converted"
  ./sketchrt convert --model "$src/hf" --sketch "$src/sketch.pkl" --tuned "$src/tuned" --external-data \
    --out "$converted" > "$out/convert_$name.log"
  echo "== $name: Java (sketchrt bench)"
  /usr/bin/time -v ./sketchrt bench --model "$converted" "${threads[@]}" --prompt-tokens "$prompt" --new-tokens "$new" \
    --contexts "$contexts" --repeats "$jrep" --json "$out/java_$name.json" 2> "$out/java_$name.time" | tee "$out/java_$name.log"
  grep -E "Maximum resident|Elapsed" "$out/java_$name.time" || true
  echo "== $name: Python training-time reference (sketchrt_ref.bench.reference)"
  /usr/bin/time -v python3 -m sketchrt_ref.bench.reference --hf "$src/hf" --sketch "$src/sketch.pkl" --tuned "$src/tuned" \
    --prompt-len "$prompt" --new-tokens "$new" --contexts "$pycontexts" --repeats "$prep" --json "$out/py_$name.json" \
    2> "$out/py_$name.time" | tee "$out/py_$name.log"
  grep -E "Maximum resident|Elapsed" "$out/py_$name.time" || true
}

for m in "${models[@]}"; do
  case "$m" in
    arith) run_model arith examples/arith 8 16 8,16 21 5 8,16 ;;
    llama3) run_model llama3 testdata/fixtures/llama3_gqa_g4_bf16 128 64 32,64,128,256,512 21 5 32,64,128,256,512 ;;
    stories260K)
      if [ ! -f build/stories260K/sketch.pkl ]; then
        [ -d ../shared/models/stories260K ] || { echo "stories260K: ../shared/models/stories260K is absent" >&2; exit 1; }
        python3 -m sketchrt_ref.fixtures.stories260k_to_hf --shared ../shared/models/stories260K --out build/stories260K
      fi
      run_model stories260K build/stories260K 128 64 32,64,128,256,512 21 5 32,64,128,256,512 ;;
    tinyllama)
      [ -f build/tinyllama_sketch/sketch.pkl ] || python3 -m sketchrt_ref.fixtures.make_fixtures --tinyllama build/tinyllama_sketch
      # Python: no context sweep (each forward pass takes seconds); its decode figure is at context 32..48.
      run_model tinyllama build/tinyllama_sketch 32 16 32,512 2 1 "" ;;
    *) echo "unknown model '$m' (arith, llama3, stories260K, tinyllama)" >&2; exit 2 ;;
  esac
done
python3 -m sketchrt_ref.bench.report "$out"
