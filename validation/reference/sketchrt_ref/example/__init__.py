"""The bundled example examples/arith: arith (data, tokenizer), sketch_training (dense and
LUT-only training loops, greedy evaluation) and train (the tool that builds it all)."""
