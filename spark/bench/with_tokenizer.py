"""A converted model that has no tokenizer (the mid-size benchmark fixture) plus one, for benchmarks.

    python3 spark/bench/with_tokenizer.py MODEL_DIR OUT_DIR

OUT_DIR gets links to every file of MODEL_DIR and the fixtures' tiny byte-level BPE tokenizer
(sketchrt_ref.fixtures.tiny_tokenizer, BOS 1, EOS 2): its ids are a few hundred of the model's
vocabulary, enough to feed prompts; the random model's text is noise, its speed is what counts.
Needs the reference package on the path (build/venv).
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "validation", "reference"))
from sketchrt_ref.fixtures import tiny_tokenizer  # noqa: E402


def main(model: str, out: str) -> None:
    os.makedirs(out)
    for name in os.listdir(model):
        os.symlink(os.path.abspath(os.path.join(model, name)), os.path.join(out, name))
    tiny_tokenizer.build(32000).save(os.path.join(out, "tokenizer.json"))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
