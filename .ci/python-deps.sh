#!/usr/bin/env bash
# Installs the Python reference (validation/reference, package sketchrt_ref) and its requirements
# with pip as this machine configures it (`pip config list`: index, extra indexes, find-links,
# constraints); nothing here names an index or a path outside the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
package=validation/reference
req=$package/requirements.txt
[[ -f $req && -f $package/pyproject.toml ]] || { echo "python deps: no $package/pyproject.toml or $req"; exit 1; }
pip=(python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore)
# pip retries an index it cannot reach five times with back-off, about 8 s for every package when
# one configured index is offline; one retry tells the two apart. A configured value wins.
if [[ -z "${PIP_RETRIES:-}" ]] && ! python3 -m pip config list 2>/dev/null | grep -q '\.retries='; then
  export PIP_RETRIES=1
fi

# sketchrt_ref must be this checkout's (an editable install points at the folder it came from,
# and CI clones the repository into a fresh folder).
here="$(pwd -P)/$package/sketchrt_ref"
installed_from() {
  python3 -c "import os, sketchrt_ref; print(os.path.dirname(os.path.realpath(sketchrt_ref.__file__)))" 2>/dev/null || true
}
if python3 -c "import torch, transformers, safetensors, tokenizers, onnx, jsonschema, pytest" 2>/dev/null; then
  if [[ "$(installed_from)" == "$here" ]]; then
    echo "python deps: already installed (sketchrt_ref from $package)"
    exit 0
  fi
  echo "python deps: requirements present; installing sketchrt_ref from $package ..."
  "${pip[@]}" --no-deps -e "$package"
else
  echo "python deps: installing $req and sketchrt_ref with pip's configured index ..."
  "${pip[@]}" -r "$req" -e "$package"
fi
[[ "$(installed_from)" == "$here" ]] || { echo "python deps: sketchrt_ref does not import from $package" >&2; exit 1; }
echo "python deps: sketchrt_ref installed from $package"
