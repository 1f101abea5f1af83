#!/usr/bin/env bash
# Serving benchmark: `sketchrt serve` beside llama.cpp's `llama-server` on the same weights (the
# TinyLlama shape that run_peer_bench.sh prepares: build/peers/tinyllama/{sketchrt,q4_0.gguf}),
# driven by serve_load.py (the openai client) at 1/4/16/32 concurrent streaming clients, random
# token-id prompts, fixed output length (ignore_eos), greedy.
#
#   LLAMA_CPP_DIR=/work/peers/llama.cpp validation/peers/run_serve_bench.sh [PEER_DIR]
#
# PEER_DIR defaults to build/peers/tinyllama (run run_peer_bench.sh tinyllama first). Needs
# $LLAMA_CPP_DIR/build/bin/llama-server (cmake --build build --target llama-server), the sketchrt
# jar (cli/target/sketchrt.jar) and build/venv with openai. THREADS=2 CONCURRENCY=1,4,16,32
# REQUESTS=2 PROMPT=32 NEW=32 ROUNDS=3 SERVE_ARGS= (more `sketchrt serve` flags) (the two servers take turns, round after round, so a noisy
# spell hits both). Results in OUT (default PEER_DIR): serve.jsonl (one line per server, round and
# level), serve.md (min/median/max over rounds), serve.svg (medians), the servers' logs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dir="${1:-$root/build/peers/tinyllama}"
: "${LLAMA_CPP_DIR:?set LLAMA_CPP_DIR to a llama.cpp tree with build/bin/llama-server}"
PYTHON="${PYTHON:-$root/build/venv/bin/python}"
SKETCHRT_JAR="${SKETCHRT_JAR:-$root/cli/target/sketchrt.jar}"
THREADS="${THREADS:-2}"; CONCURRENCY="${CONCURRENCY:-1,4,16,32}"; REQUESTS="${REQUESTS:-2}"
PROMPT="${PROMPT:-32}"; NEW="${NEW:-32}"; ROUNDS="${ROUNDS:-3}"
[[ -n ${JAVA_HOME:-} ]] || source "$root/.ci/java-home.sh"
for f in "$LLAMA_CPP_DIR/build/bin/llama-server" "$SKETCHRT_JAR" "$PYTHON" "$dir/sketchrt/sketchrt.json" "$dir/q4_0.gguf"; do
  [[ -e $f ]] || { echo "run_serve_bench: missing $f" >&2; exit 2; }
done
OUT="${OUT:-$dir}"; mkdir -p "$OUT"
max_clients=$(tr ',' '\n' <<<"$CONCURRENCY" | sort -n | tail -1)
out="$OUT/serve.jsonl"; rm -f "$out" "$OUT/serve-sketchrt.log" "$OUT/serve-llama.log"
load() {  # $1 name, $2 port, $3 round
  "$PYTHON" "$root/validation/peers/serve_load.py" --url "http://127.0.0.1:$2/v1" --name "$1" --round "$3" \
    --concurrency "$CONCURRENCY" --requests "$REQUESTS" --prompt-tokens "$PROMPT" --new-tokens "$NEW" --out "$out"
}
wait_ready() {  # $1 port, $2 pid
  for _ in $(seq 600); do
    curl -sf "http://127.0.0.1:$1/health" >/dev/null && return 0
    kill -0 "$2" 2>/dev/null || { echo "run_serve_bench: the server on $1 exited" >&2; return 1; }
    sleep 0.5
  done
  return 1
}

for round in $(seq "$ROUNDS"); do
  echo "== round $round/$ROUNDS: sketchrt serve ($THREADS threads, max-batch $max_clients)"
  "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
    --add-modules jdk.incubator.vector -jar "$SKETCHRT_JAR" serve --model "$dir/sketchrt" --port 18600 \
    --threads "$THREADS" --max-batch "$max_clients" --max-waiting 0 ${SERVE_ARGS:-} >>"$OUT/serve-sketchrt.log" 2>&1 &
  pid=$!
  wait_ready 18600 $pid
  load "sketchrt serve" 18600 "$round"
  kill -TERM $pid; wait $pid || true

  echo "== round $round/$ROUNDS: llama-server Q4_0 ($THREADS threads, $max_clients slots)"
  # every slot gets room for one prompt plus its output (the context is split between slots);
  # llama-server aborts on SIGTERM ("terminate called without an active exception"): harmless here
  "$LLAMA_CPP_DIR/build/bin/llama-server" -m "$dir/q4_0.gguf" --host 127.0.0.1 --port 18601 \
    -t "$THREADS" -np "$max_clients" -c $((max_clients * (PROMPT + NEW + 16))) >>"$OUT/serve-llama.log" 2>&1 &
  pid=$!
  wait_ready 18601 $pid
  load "llama-server Q4_0" 18601 "$round"
  kill -TERM $pid; wait $pid 2>/dev/null || true
done

"$PYTHON" "$root/validation/peers/serve_load.py" --chart "$out" --svg "$OUT/serve.svg" --table "$OUT/serve.md"
cat "$OUT/serve.md"
echo "results: $out, table: $OUT/serve.md, chart: $OUT/serve.svg"
