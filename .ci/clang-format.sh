#!/usr/bin/env bash
# The C, C++ and CUDA sources (kernels/, trt-plugins/) follow the root .clang-format. `make test`
# checks them (`.ci/clang-format.sh`), `make format` rewrites them (`.ci/clang-format.sh fix`).
# Any clang-format from 14 on will do (14 and 23 agree on this tree; older ones lack options the
# file uses). When none is installed, set-up installs Debian's system-wide, announced, as
# .ci/browser.sh does for the report test's browser; SKETCHRT_NO_SYSTEM_INSTALL=1 installs nothing
# and the check is skipped, saying why.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-check}

major() { "$1" --version 2>/dev/null | sed -n 's/.*clang-format version \([0-9][0-9]*\).*/\1/p' | head -1; }

usable() {
  local m
  m=$(major "$1")
  [[ -n $m && $m -ge 14 ]]
}

find_clang_format() {
  local c
  for c in clang-format clang-format-{23..14}; do
    if command -v "$c" >/dev/null 2>&1 && usable "$c"; then
      command -v "$c"
      return 0
    fi
  done
  return 1
}

install_clang_format() {
  if [[ -n "${SKETCHRT_NO_SYSTEM_INSTALL:-}" ]]; then
    echo "clang-format: none (>= 14) installed, and SKETCHRT_NO_SYSTEM_INSTALL is set"
    return 1
  fi
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    if sudo -n true 2>/dev/null; then sudo=(sudo -n); else
      echo "clang-format: none (>= 14) installed, and installing it needs root (apt-get install clang-format)"
      return 1
    fi
  fi
  echo "clang-format: installing Debian's clang-format system-wide (apt-get install clang-format), outside the checkout, for the C/C++ format check ..."
  if ! "${sudo[@]}" apt-get install -y -q clang-format >/dev/null 2>&1; then
    "${sudo[@]}" apt-get update -q >/dev/null 2>&1 || true
    "${sudo[@]}" apt-get install -y -q clang-format >/dev/null 2>&1 || {
      echo "clang-format: apt-get install clang-format failed"
      return 1
    }
  fi
}

if ! cf=$(find_clang_format); then
  install_clang_format || true # says why when it cannot
  cf=$(find_clang_format) || cf=
fi
if [[ -z $cf ]]; then
  if [[ $mode == fix ]]; then
    echo "clang-format: cannot format without clang-format >= 14" >&2
    exit 1
  fi
  echo "clang-format: the C/C++ format check is skipped (no clang-format >= 14 here)"
  exit 0
fi

mapfile -t files < <(git ls-files -- kernels trt-plugins | grep -E '\.(c|h|cc|cpp|hpp|cu|cuh)$')
if [[ $mode == fix ]]; then
  "$cf" -i --style=file "${files[@]}"
  echo "clang-format: formatted ${#files[@]} files with $("$cf" --version)"
  exit 0
fi
if "$cf" --dry-run --Werror --style=file "${files[@]}"; then
  echo "clang-format: ${#files[@]} C/C++/CUDA files follow .clang-format ($("$cf" --version))"
else
  echo "clang-format: the files above do not follow .clang-format: run 'make format'" >&2
  exit 1
fi
