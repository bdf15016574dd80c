#!/usr/bin/env bash
# The OpenAPI linter: Redocly CLI 2.x with the committed redocly.yaml over the four committed
# documents (which tests/api/docs.rs proves are the served ones). Exits non-zero on any error.
#   bash scripts/lint-openapi.sh
set -euo pipefail
cd "$(dirname "$0")/.."
REDOCLY_VERSION=${REDOCLY_VERSION:-2.77.0}
npx --yes "@redocly/cli@$REDOCLY_VERSION" lint --config redocly.yaml \
  openapi/musique.json openapi/musique-legacy.json openapi/musicark.json openapi/control.json
