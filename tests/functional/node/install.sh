#!/usr/bin/env bash
# Installs the npm-only test tools (s3rver, @aws-sdk/client-s3, playwright-core, ajv and ajv-formats for the OpenLineage schema) into
# tests/functional/node/node_modules from package-lock.json. Idempotent:
# does nothing when node_modules already matches the lock file.
set -euo pipefail
cd "$(dirname "$0")"
command -v npm >/dev/null || { echo "install.sh: npm is not installed (packaging/install-deps.sh --test)" >&2; exit 1; }
stamp=node_modules/.roar-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -f node_modules/s3rver/bin/s3rver.js ]]; then
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
echo "$want" >"$stamp"
