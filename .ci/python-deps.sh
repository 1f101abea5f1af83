#!/usr/bin/env bash
# Installs the Python reference's requirements from the local wheel mirror (offline).
set -euo pipefail
cd "$(dirname "$0")/.."
req=validation/reference/requirements.txt
[[ -f $req ]] || { echo "python deps: no $req"; exit 0; }
if python3 -c "import torch, transformers, safetensors, tokenizers, onnx" 2>/dev/null; then
  echo "python deps: already installed"
  exit 0
fi
echo "python deps: installing from the local wheel mirror ..."
python3 -m pip install -q --disable-pip-version-check \
  --index-url file:///opt/pypi/simple --extra-index-url file:///opt/pypi-more/simple \
  --find-links /opt/wheels -r "$req"
