#!/usr/bin/env bash
# Prepares the test data that is not committed: stories260K (../shared/models, never committed) as
# an HF directory, its sketch and training-time reference (build/stories260K), and transformers'
# beam-search answers on it. Skipped, saying so, without ../shared; the Java tests then skip those
# cases with the reason. Redone only when the shared files or the generators change (a stamp).
set -euo pipefail
cd "$(dirname "$0")/.."
shared=../shared/models/stories260K
out=build/stories260K
if [[ ! -f $shared/stories260K.bin ]]; then
  echo "test data: $shared is absent: the stories260K tests will skip"
  exit 0
fi
gen=validation/reference/sketchrt_ref/fixtures
want=$(cat "$shared"/stories260K.bin "$shared"/tok512.bin "$gen"/stories260k_to_hf.py "$gen"/beam_golden.py | sha256sum | cut -c1-16)
stamp=$out/.sketchrt-prepared
if [[ -f $stamp && "$(cat "$stamp")" == "$want" ]]; then
  echo "test data: $out is up to date"
  exit 0
fi
echo "test data: preparing $out from $shared ..."
start=$SECONDS
rm -rf "$out"
python3 -m sketchrt_ref.fixtures.stories260k_to_hf --shared "$shared" --out "$out"
# transformers' beam search answers on it (BeamSearchGoldenTest)
python3 -m sketchrt_ref.fixtures.beam_golden --stories "$out"
echo "$want" >"$stamp"
echo "test data: $out ready in $((SECONDS - start)) s"
