#!/usr/bin/env bash
# Peer benchmark: sketchrt vs llama.cpp Q4_0 vs ONNX Runtime MatMulNBits int4 on the SAME weights.
#
#   LLAMA_CPP_DIR=/work/peers/llama.cpp validation/peers/run_peer_bench.sh [tinyllama|midsize|all] [ROUNDS]
#
# Needs (nothing is downloaded or built here):
#   LLAMA_CPP_DIR  a llama.cpp source tree (convert_hf_to_gguf.py, gguf-py/) with a CPU Release build:
#                  $LLAMA_CPP_DIR/build/bin/llama-bench and llama-quantize, e.g.
#                    cmake -B build -DLLAMA_CURL=OFF -DCMAKE_BUILD_TYPE=Release -DLLAMA_BUILD_TESTS=OFF
#                    cmake --build build -j2 --target llama-bench llama-quantize
#   PYTHON         default build/venv/bin/python (make test's venv): torch, transformers, safetensors,
#                  onnx, onnxruntime, onnx_ir (MatMulNBitsQuantizer), sentencepiece, numpy
#   SKETCHRT_JAR   default cli/target/sketchrt.jar (its lib/ next to it; includes SketchKernelBench)
#   JAVA_HOME      default from .ci/java-home.sh (JDK 25)
#   THREADS=2 PROMPTS=32,64,512 NEW=16
# Everything it makes goes under build/peers/<shape>/ and is reused on the next run (delete the
# folder to rebuild): fixture/ (make_fixtures --tinyllama|--midsize), sketchrt/ (sketchrt convert),
# dense/ (training-time model, fp16, + a small sentencepiece tokenizer.model), f16.gguf + q4_0.gguf,
# ort-int4/ (folded + MatMulNBits block 32, accuracy level 4, symmetric). Then ROUNDS (default 3)
# interleaved rounds (sketchrt, llama.cpp, ORT, sketchrt, ...), one markdown table per shape and
# build/peers/peers_tok_s.svg (sketchrt_ref.bench.peer_chart).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
shapes="${1:-all}"; rounds="${2:-3}"
[[ $shapes == all ]] && shapes="midsize tinyllama"
: "${LLAMA_CPP_DIR:?set LLAMA_CPP_DIR to a llama.cpp tree with build/bin/llama-bench and llama-quantize (see the header)}"
PYTHON="${PYTHON:-$root/build/venv/bin/python}"
SKETCHRT_JAR="${SKETCHRT_JAR:-$root/cli/target/sketchrt.jar}"
THREADS="${THREADS:-2}"; PROMPTS="${PROMPTS:-32,64,512}"; NEW="${NEW:-16}"
[[ -n ${JAVA_HOME:-} ]] || source "$root/.ci/java-home.sh"
java="$JAVA_HOME/bin/java"
for f in "$LLAMA_CPP_DIR/build/bin/llama-bench" "$LLAMA_CPP_DIR/build/bin/llama-quantize" \
         "$LLAMA_CPP_DIR/convert_hf_to_gguf.py" "$SKETCHRT_JAR" "$PYTHON" "$java" /usr/bin/time; do
  [[ -e $f ]] || { echo "run_peer_bench: missing $f" >&2; exit 2; }
done
"$PYTHON" -c 'import torch, transformers, onnx, onnxruntime, onnx_ir, sentencepiece' \
  || { echo "run_peer_bench: $PYTHON lacks a package: pip install onnx_ir sentencepiece" >&2; exit 2; }
export PYTHONPATH="$root/validation/reference:$LLAMA_CPP_DIR/gguf-py${PYTHONPATH:+:$PYTHONPATH}"
ref="$root/validation/reference"

prepare() {  # $1 shape, $2 dir
  local shape=$1 d=$2
  mkdir -p "$d"
  if [[ ! -f $d/fixture/tuned/sketched_params.pkl ]]; then
    echo "== $shape: fixture"; (cd "$ref" && "$PYTHON" -m sketchrt_ref.fixtures.make_fixtures "--$shape" "$d/fixture")
  fi
  if [[ ! -f $d/sketchrt/sketchrt.json ]]; then
    echo "== $shape: sketchrt convert"
    rm -rf "$d/sketchrt"
    "$java" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow --add-modules jdk.incubator.vector \
      -jar "$SKETCHRT_JAR" convert --model "$d/fixture/hf" --sketch "$d/fixture/sketch.pkl" --tuned "$d/fixture/tuned" \
      --out "$d/sketchrt" --external-data 2>&1 | grep -v -e 'writing layer' -e '^WARNING: Using incubator'
  fi
  if [[ ! -f $d/dense/tokenizer_config.json ]]; then
    echo "== $shape: dense fp16 HF dir (training-time weights)"
    (cd "$ref" && "$PYTHON" -m sketchrt_ref.bench.dense_peer "$d/fixture" "$d/dense" 2>&1 | grep -v -e 'Loading weights' -e 'Writing model')
  fi
  if [[ ! -f $d/q4_0.gguf ]]; then
    echo "== $shape: GGUF f16 + Q4_0"
    "$PYTHON" "$LLAMA_CPP_DIR/convert_hf_to_gguf.py" "$d/dense" --outtype f16 --outfile "$d/f16.gguf" 2>&1 | tail -2
    "$LLAMA_CPP_DIR/build/bin/llama-quantize" "$d/f16.gguf" "$d/q4_0.gguf.tmp" Q4_0 "$THREADS" 2>&1 | tail -3
    mv "$d/q4_0.gguf.tmp" "$d/q4_0.gguf"
  fi
  if [[ ! -f $d/ort-int4/model.onnx ]]; then
    echo "== $shape: ORT MatMulNBits int4"
    rm -rf "$d/ort-int4"
    (cd "$ref" && "$PYTHON" -m sketchrt_ref.bench.ort_int4 quantize "$d/sketchrt" "$d/ort-int4.tmp" 2>&1 \
      | grep -v -e '\[INFO\]' -e 'appears in graph inputs')
    mv "$d/ort-int4.tmp" "$d/ort-int4"
  fi
}

for shape in $shapes; do
  case $shape in tinyllama|midsize) ;; *) echo "run_peer_bench: unknown shape $shape (tinyllama|midsize|all)" >&2; exit 2;; esac
  d="$root/build/peers/$shape"
  prepare "$shape" "$d"
  echo "== $shape: $rounds interleaved rounds, $THREADS threads, prompts $PROMPTS, $NEW new tokens"
  (cd "$ref" && "$PYTHON" -m sketchrt_ref.bench.peer_rounds --shape "$shape" --dir "$d" --rounds "$rounds" \
    --threads "$THREADS" --prompts "$PROMPTS" --new "$NEW" --llama-bench "$LLAMA_CPP_DIR/build/bin/llama-bench" \
    --java "$java" --jar "$SKETCHRT_JAR") | tee "$d/table.md"
done
# the tables as a picture: the last run of each shape (validation/docs/peers_tok_s.svg is one)
results=(); for shape in $shapes; do results+=("$root/build/peers/$shape/results.jsonl"); done
(cd "$ref" && "$PYTHON" -m sketchrt_ref.bench.peer_chart "${results[@]}" --svg "$root/build/peers/peers_tok_s.svg")
