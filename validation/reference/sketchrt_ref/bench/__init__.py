"""The Python side of validation/run_benchmarks.sh: reference (the training-time model's speed),
report (tables and the picture) and tinyllama (the 1.1B-shaped random benchmark model)."""
