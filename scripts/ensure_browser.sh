#!/usr/bin/env bash
# The browser tests drive the Debian `chromium` with `chromedriver`; install them when missing.
set -u
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing chromium and chromium-driver (browser tests)…"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
    || { echo "error: apt-get install chromium chromium-driver failed" >&2; exit 1; }
  exit 0
fi
echo "error: the browser tests need Chromium: run 'sudo apt-get install -y chromium chromium-driver'" >&2
exit 1
