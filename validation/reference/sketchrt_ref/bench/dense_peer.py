"""The dense Hugging Face directory the peer runtimes start from (validation/peers/run_peer_bench.sh).

    python3 -m sketchrt_ref.bench.dense_peer FIXTURE_DIR OUT_DIR

FIXTURE_DIR is a `make_fixtures --tinyllama/--midsize` output (hf/, sketch.pkl, tuned/). OUT_DIR gets
the training-time model (load_training_time_model: every sketched linear = gather(tuned LUT, codes),
the weights the sketch encodes) saved with save_pretrained in fp16, the fixture's config.json (with
torch_dtype float16, so llama.cpp's converter sees the transformers-4 keys), and a small sentencepiece
tokenizer.model (llama.cpp's convert_hf_to_gguf.py needs one; it pads the vocabulary with [PADn]
tokens up to the config's vocab_size, so the model keeps its 32,000-row embeddings and lm_head).
The tokenizer is trained on deterministic pseudo-random words; benchmarks feed random token ids.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sys
import tempfile
import time

import torch

from .. import training_time as ref

SP_VOCAB = 1000


def write_tokenizer(out_dir: str) -> None:
    import sentencepiece as spm

    rnd = random.Random(1234)
    letters = "etaoinshrdlucmfwypvbgkjqxz"
    words = ["".join(rnd.choice(letters[: rnd.randint(6, 26)]) for _ in range(rnd.randint(1, 9)))
             for _ in range(5000)]
    with tempfile.TemporaryDirectory() as tmp:
        text = os.path.join(tmp, "text.txt")
        with open(text, "w") as f:
            for _ in range(20000):
                f.write(" ".join(rnd.choice(words) for _ in range(rnd.randint(5, 20))) + ".\n")
        spm.SentencePieceTrainer.train(
            input=text, model_prefix=os.path.join(tmp, "tokenizer"), vocab_size=SP_VOCAB, model_type="bpe",
            unk_id=0, bos_id=1, eos_id=2, pad_id=-1, byte_fallback=False, num_threads=2,
            minloglevel=2)
        shutil.copy(os.path.join(tmp, "tokenizer.model"), os.path.join(out_dir, "tokenizer.model"))
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "LlamaTokenizer", "bos_token": "<s>", "eos_token": "</s>",
                   "unk_token": "<unk>", "add_bos_token": True, "add_eos_token": False}, f, indent=2)


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    fixture, out = sys.argv[1:]
    t0 = time.time()
    torch.set_num_threads(2)
    hf = os.path.join(fixture, "hf")
    sketch = ref.read_pickle_trusted(os.path.join(fixture, "sketch.pkl"))
    model = ref.load_training_time_model(hf, sketch, os.path.join(fixture, "tuned"), dtype=torch.float16)
    del sketch
    shutil.rmtree(out, ignore_errors=True)
    model.save_pretrained(out, safe_serialization=True, max_shard_size="20GB")
    with open(os.path.join(hf, "config.json")) as f:
        config = json.load(f)
    config["torch_dtype"] = "float16"
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
    for name in ("generation_config.json",):
        if os.path.exists(os.path.join(hf, name)):
            shutil.copy(os.path.join(hf, name), os.path.join(out, name))
    write_tokenizer(out)
    print(f"dense fp16 peer model in {out} ({time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
