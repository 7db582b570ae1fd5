#!/usr/bin/env bash
# Say loudly that a stage had nothing to test yet, and record it for hack/stages.sh's summary.
# Usage: hack/skip.sh STAGE REASON
set -euo pipefail

echo "== SKIPPED $1: $2"
if [[ -n ${SENDGRID_SKIPPED:-} ]]; then
    echo "$1: $2" >>"$SENDGRID_SKIPPED"
fi
