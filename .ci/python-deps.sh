#!/usr/bin/env bash
# Creates the project-local Python environment build/venv (on first use) and installs the Python
# reference (validation/reference, package sketchrt_ref) and its requirements into it, with pip as
# this machine configures it (`pip config list`: index, extra indexes, find-links, constraints).
# Nothing is installed outside the checkout. `make test` calls it; a second run takes about a
# second: a stamp records what was installed, and it is redone only when the requirements change.
set -euo pipefail
cd "$(dirname "$0")/.."
package=validation/reference
req=$package/requirements.txt
venv=build/venv
stamp=$venv/.sketchrt-installed
[[ -f $req && -f $package/pyproject.toml ]] || { echo "python deps: no $package/pyproject.toml or $req" >&2; exit 1; }

# What the stamp must match: the requirements, the package's metadata and this checkout's path
# (an editable install points at the folder it came from).
want="$(cat "$req" "$package/pyproject.toml" | sha256sum | cut -c1-16) $(pwd -P)"
if [[ -x $venv/bin/python && -f $stamp && "$(cat "$stamp")" == "$want" ]]; then
  echo "python deps: $venv is up to date"
  exit 0
fi

if [[ ! -x $venv/bin/python ]]; then
  echo "python deps: creating $venv (python3 -m venv) ..."
  python3 -m venv "$venv" || {
    echo "python deps: python3 -m venv failed: install Python 3.10+ with its venv module (Debian: apt-get install python3-venv)" >&2
    exit 1
  }
fi
rm -f "$stamp"
# pip retries an index it cannot reach five times with back-off, about 8 s for every package when
# one configured index is offline; one retry tells the two apart. A configured value wins.
if [[ -z "${PIP_RETRIES:-}" ]] && ! python3 -m pip config list 2>/dev/null | grep -q '\.retries='; then
  export PIP_RETRIES=1
fi
echo "python deps: installing $req and sketchrt_ref into $venv with pip's configured index (a few minutes the first time) ..."
start=$SECONDS
log=$venv/install.log  # pip's own output (retry warnings for offline indexes among it) goes here
if ! "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req" -e "$package" >"$log" 2>&1; then
  echo "python deps: pip failed; the end of $log:" >&2
  tail -n 25 "$log" >&2
  exit 1
fi
here="$(pwd -P)/$package/sketchrt_ref"
from=$("$venv/bin/python" -c "import os, sketchrt_ref; print(os.path.dirname(os.path.realpath(sketchrt_ref.__file__)))")
[[ "$from" == "$here" ]] || { echo "python deps: sketchrt_ref imports from $from, not $package" >&2; exit 1; }
echo "$want" >"$stamp"
echo "python deps: $venv ready in $((SECONDS - start)) s"
