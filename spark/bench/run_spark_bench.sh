#!/usr/bin/env bash
# Rows/s and tokens/s of the Spark job at local[1] and local[2] beside 'generate --input', in one
# run on the same rows: ROWS prompts cycling over the model's tuned sets, MAX_NEW tokens each, greedy.
#
#   spark/bench/run_spark_bench.sh MODEL_DIR [ROWS] [MAX_NEW]    -> build/spark-bench/report.md
#
# MODEL_DIR is a converted model with a tokenizer. The mid-size shape (12 x 1024, vocab 32000):
#   python3 -m sketchrt_ref.fixtures.make_fixtures --midsize build/midsize   (then sketchrt convert;
#   spark/bench/with_tokenizer.py adds a tokenizer to a converted model that has none).
# "job" times are the command's own (generate: reading + generating; spark: the write action,
# model loading on the executors included); "wall" is the whole command, JVM and Spark start-up
# included.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
model="${1:?usage: run_spark_bench.sh MODEL_DIR [ROWS] [MAX_NEW]}"
rows="${2:-32}"
max_new="${3:-32}"
out="$root/build/spark-bench"
rm -rf "$out" && mkdir -p "$out"

sets=$(python3 -c "import json,sys; print(' '.join(s['name'] for s in json.load(open(sys.argv[1]))['tuned_sets']['sets']))" "$model/sketchrt.json")
python3 - "$rows" "$max_new" "$out/rows.jsonl" $sets <<'PY'
import json, sys
rows, max_new, path, sets = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4:]
prompts = ["The little robot walks to the river and", "Once the story starts, the codes",
           "Numbers like 12, 345 and", "A converter reads the pickles, checks"]
with open(path, "w") as f:
    for i in range(rows):
        f.write(json.dumps({"id": i, "prompt": prompts[i % len(prompts)], "tuned": sets[i % len(sets)],
                            "max_new_tokens": max_new}) + "\n")
PY

# the rows' own token counts, from an output (JSON lines, one file or a Spark directory)
tokens() { cat "$@" | python3 -c "import json,sys; print(sum(json.loads(l).get('completion_tokens') or 0 for l in sys.stdin if l.strip()))"; }
now() { date +%s.%N; }

report="$out/report.md"
{
  echo "| run | rows | tokens | wall s | job s | rows/s (job) | tokens/s (job) |"
  echo "|---|---|---|---|---|---|---|"
} >"$report"

t0=$(now)
"$root/sketchrt" generate --model "$model" --input "$out/rows.jsonl" --output "$out/generate.jsonl" --max-new-tokens "$max_new"
t1=$(now)
n=$(tokens "$out/generate.jsonl")
python3 -c "import sys; r,n,w=int(sys.argv[1]),int(sys.argv[2]),float(sys.argv[3]); print(f'| generate --input | {r} | {n} | {w:.1f} | {w:.1f} (wall) | {r/w:.2f} | {n/w:.1f} |')" "$rows" "$n" "$(echo "$t1 - $t0" | bc)" >>"$report"

for master in 'local[1]' 'local[2]'; do
  dir="$out/spark-${master//[^0-9]/}"
  t0=$(now)
  "$root/sketchrt" spark --master "$master" --model "$model" --input "$out/rows.jsonl" --output "$dir" \
      --output-format json --max-new-tokens "$max_new" --partitions "${master//[^0-9]/}" | tee "$dir.summary"
  t1=$(now)
  n=$(tokens "$dir"/*.json)
  # the job's own line: "N rows (F failed), T completion tokens in S s: ..."
  job=$(sed -n 's/.* completion tokens in \([0-9.]*\) s:.*/\1/p' "$dir.summary")
  python3 -c "import sys; m,r,n,w,j=sys.argv[1],int(sys.argv[2]),int(sys.argv[3]),float(sys.argv[4]),float(sys.argv[5]); print(f'| spark {m} | {r} | {n} | {w:.1f} | {j:.1f} | {r/j:.2f} | {n/j:.1f} |')" \
      "$master" "$rows" "$n" "$(echo "$t1 - $t0" | bc)" "$job" >>"$report"
done
cat "$report"
