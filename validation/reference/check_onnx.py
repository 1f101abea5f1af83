"""Validates an ONNX model with the official checker: check_onnx.py MODEL.onnx

Runs onnx.checker.check_model(path, full_check=True) (path form, so external data and models over
2 GB work; full_check adds strict shape inference). Exit 0 and "OK" when valid; otherwise exit 1 with
ONE line "check_onnx: MODEL: error". Java tests call it when python3 + onnx are available."""

import os
import sys


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: check_onnx.py MODEL.onnx", file=sys.stderr)
        return 2
    path = sys.argv[1]
    try:
        import onnx
    except ImportError as e:
        print(f"check_onnx: the onnx package is not installed ({e})", file=sys.stderr)
        return 3
    if not os.path.isfile(path):
        print(f"check_onnx: {path}: no such file", file=sys.stderr)
        return 1
    try:
        onnx.checker.check_model(path, full_check=True)
    except Exception as e:  # ValidationError, InferenceError, DecodeError, ...
        msg = " ".join(str(e).split())  # one line
        print(f"check_onnx: {path}: {type(e).__name__}: {msg}", file=sys.stderr)
        return 1
    print(f"OK {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
