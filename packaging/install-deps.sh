#!/usr/bin/env bash
# Installs what cbcs needs to build, test and run the demo on Debian 12.
# Idempotent and quick when everything is present; run as root.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config
  libcaf-dev libboost-dev libboost-program-options-dev
  libssl-dev openssl libsimdjson-dev libfmt-dev libspdlog-dev libsqlite3-dev libpugixml-dev doctest-dev
  libkrb5-dev
  python3 python3-prometheus-client python3-matplotlib python3-cryptography tinyproxy
  krb5-kdc krb5-admin-server krb5-user faketime
  nodejs
  dpkg-dev lintian adduser man-db
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# moto_server is the local AWS Private CA peer. It comes with the machine image;
# elsewhere try pip. Without it the AWS tests report themselves as skipped.
if ! command -v moto_server >/dev/null 2>&1; then
  python3 -m pip install --quiet 'moto[server]' >/dev/null 2>&1 ||
    echo "install-deps: moto_server is not available; AWS Private CA tests will be skipped"
fi
