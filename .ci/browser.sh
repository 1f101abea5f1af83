#!/usr/bin/env bash
# The HTML report test renders the report in a real headless browser: Debian's chromium. It is a
# system package, so it is the one thing set-up installs outside the checkout, and it says so.
# SKETCHRT_NO_SYSTEM_INSTALL=1 installs nothing; that one test then skips with the reason.
set -euo pipefail
if [[ -x /usr/bin/chromium ]]; then
  echo "browser: /usr/bin/chromium is present"
  exit 0
fi
if [[ -n "${SKETCHRT_NO_SYSTEM_INSTALL:-}" ]]; then
  echo "browser: /usr/bin/chromium is missing and SKETCHRT_NO_SYSTEM_INSTALL is set: the report's browser test will skip"
  exit 0
fi
SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  if sudo -n true 2>/dev/null; then SUDO=(sudo -n); else
    echo "browser: /usr/bin/chromium is missing and installing it needs root: the report's browser test will skip (apt-get install chromium)"
    exit 0
  fi
fi
echo "browser: installing Debian's chromium system-wide (apt-get install chromium), outside the checkout, for the HTML report test ..."
start=$SECONDS
if ! "${SUDO[@]}" apt-get install -y -q chromium >/dev/null 2>&1; then
  "${SUDO[@]}" apt-get update -q >/dev/null 2>&1 || true
  "${SUDO[@]}" apt-get install -y -q chromium >/dev/null 2>&1 || {
    echo "browser: apt-get install chromium failed: the report's browser test will skip"
    exit 0
  }
fi
echo "browser: chromium installed in $((SECONDS - start)) s"
