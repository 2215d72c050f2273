#!/usr/bin/env bash
# Installs the system packages the test suite drives as real peers, only when missing.
set -euo pipefail
need=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
# PostgreSQL server binaries (the store tests start a private cluster when none runs).
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
# SIP peers for the SIP front tests: sipp (Debian sip-tester) and kamailio.
command -v sipp >/dev/null 2>&1 || need+=(sip-tester)
command -v kamailio >/dev/null 2>&1 || [ -x /usr/sbin/kamailio ] || need+=(kamailio)
# espeak-ng: text-to-speech for IVR text segments (the recorded prompts need no synthesizer).
command -v espeak-ng >/dev/null 2>&1 || need+=(espeak-ng)
# Debian's Chromium for the web UI's browser tests (Playwright drives it; no browser download).
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "installing system packages: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
  # the tests start their own kamailio on free ports; the package's system service
  # (all interfaces, port 5060) is not wanted on a developer machine
  if [[ " ${need[*]} " == *" kamailio "* ]] && command -v systemctl >/dev/null 2>&1; then
    $SUDO systemctl disable --now kamailio >/dev/null 2>&1 || true
  fi
fi
