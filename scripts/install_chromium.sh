#!/usr/bin/env bash
# Installs headless Chromium and its driver from Debian's packages for the browser tests
# (tests/automation/test_browser.py, driven by Playwright with executable_path=/usr/bin/chromium; Playwright's
# own browser download is never used). Needs root and apt; does nothing when Chromium is already there.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
    exit 0
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
echo "Chromium $(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}') installed"
