"""sketchrt's Python reference, in four parts (none of it ships with the Java product):

  training_time  the SketchTune training-time computation: code packing, the gather, sketching,
                 pickles, the HF model with gathered weights (the ground truth of every test)
  fixtures       generators and checkers of the committed test data (testdata/, the converter's
                 reader fixtures, the runtime's toy model) and of stories260K from ../shared
  example        the bundled example examples/arith: data, LUT-only fine-tuning, the build
  bench          the Python side of validation/run_benchmarks.sh, its report, the TinyLlama model

Tools run as modules, e.g. `python3 -m sketchrt_ref.fixtures.make_fixtures` (see README.md).
"""
