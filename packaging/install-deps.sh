#!/usr/bin/env bash
# Installs everything roar needs on Debian 12, as root.
#   install-deps.sh          build + runtime dependencies
#   install-deps.sh --demo   also what the demo pipeline uses (an S3 server, b3sum)
#   install-deps.sh --test   also the tools and S3 peers the test suite drives
set -euo pipefail

build_pkgs=(
  build-essential cmake pkg-config git ca-certificates help2man
  libboost1.74-dev libcurl4-openssl-dev libssl-dev nlohmann-json3-dev libsqlite3-dev sqlite3 libpq-dev
  libtomlplusplus-dev librust-blake3-dev libexpected-dev libfmt-dev libcli11-dev libspdlog-dev libisal-dev libexpat1-dev
  catch2
)
test_pkgs=(
  b3sum jq strace file attr libcap2-bin binutils python3 python3-boto3 awscli rclone s3cmd
  postgresql-15 nginx libnginx-mod-http-dav-ext iperf3 hyperfine nodejs musl-tools golang-go golang-github-minio-minio-go-v7-dev
  chromium clang-format clang-tidy clang libclang-rt-14-dev zsh man-db
)

demo_pkgs=(b3sum python3)

want=("${build_pkgs[@]}")
case "${1:-}" in
  --test) want+=("${test_pkgs[@]}") ;;
  --demo) want+=("${demo_pkgs[@]}") ;;
esac

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
