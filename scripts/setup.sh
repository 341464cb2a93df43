#!/usr/bin/env bash
# Installs what the platform needs and is missing: Debian packages (as root; otherwise says what to
# install) and npm dependencies. Quiet and quick when everything is already there.
#   scripts/setup.sh start   what `npm start` needs
#   scripts/setup.sh test    what `npm test` needs as well
#   scripts/setup.sh bench   what `npm run bench` needs as well (Mosquitto, the broker's baseline)
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-start}"

missing=()
if [ -z "${INFLUX_URL:-}" ] || [ "$mode" = test ]; then
  command -v influxd >/dev/null || missing+=(influxdb)
fi
# The tests of the broker's Redis store (REDIS_URL); the broker's own store needs nothing installed.
if [ "$mode" = test ]; then
  command -v redis-server >/dev/null || missing+=(redis-server)
fi
if [ "$mode" = bench ]; then
  command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
  command -v chromium >/dev/null || missing+=(chromium)
fi
if [ "$mode" = test ]; then
  command -v mosquitto_pub >/dev/null || missing+=(mosquitto-clients)
  # The console's end-to-end tests drive Debian's Chromium (web/test/e2e).
  command -v chromium >/dev/null || missing+=(chromium)
fi

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing Debian packages: ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # The packages enable and start influxdb.service on :8086, redis-server.service on :6379 and
    # mosquitto.service on :1883, where the launcher's own influxd, the tests' redis-server and the broker bind.
    for unit in influxdb redis-server mosquitto; do
      if [[ " ${missing[*]} " == *" $unit "* ]] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
        if systemctl disable --now "$unit" >/dev/null 2>&1; then
          echo "setup: stopped and disabled the packaged $unit.service: the platform runs its own / đã dừng và tắt $unit.service của gói: nền tảng tự chạy bản riêng" >&2
        else
          echo "setup: could not stop $unit.service; run: systemctl disable --now $unit / không dừng được $unit.service; hãy chạy: systemctl disable --now $unit" >&2
        fi
      fi
    done
  else
    echo "setup: missing Debian packages: ${missing[*]}" >&2
    echo "       install them with: sudo apt-get install ${missing[*]}" >&2
    echo "       (or set INFLUX_URL to use a server you already run)" >&2
    exit 1
  fi
fi

# npm ci on a fresh clone; npm install when package-lock.json changed since the last install.
if [ ! -f node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies (first run, about a minute)" >&2
  npm ci --no-audit --no-fund --loglevel=error
elif [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: updating npm dependencies" >&2
  npm install --no-audit --no-fund --loglevel=error
fi

# The console the api serves at /: built when web/dist is missing or older than its sources.
if [ ! -f web/dist/index.html ] || [ -n "$(find web/src web/public web/index.html web/vite.config.ts -newer web/dist/index.html -print -quit)" ]; then
  echo "setup: building the operations console (web/dist)" >&2
  npm run --silent build -w web >/dev/null
fi
