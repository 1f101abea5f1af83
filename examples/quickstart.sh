#!/usr/bin/env bash
# The README's first command: converts the bundled SketchTune example (a tiny Llama trained to add,
# sketched, then LUT-fine-tuned to subtract) to ONNX and asks it a few subtraction problems (operands up to 99, as it was trained).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
example="$root/examples/arith"
out="$root/build/arith-onnx"

rm -rf "$out"
mkdir -p "$root/build"
"$root/sketchrt" convert --model "$example/hf" --sketch "$example/sketch.pkl" \
  --tuned "$example/tuned" --out "$out"

for prompt in "57-38=" "91-19=" "40-7=" "64-64="; do  # two-digit operands, as trained
  printf '%s' "$prompt"
  "$root/sketchrt" generate --model "$out" --prompt "$prompt" --max-new-tokens 8   # ends the line itself
done
