#!/usr/bin/env bash
# Remakes docs/board.png: a project in a temporary folder on the bundled
# SpecFlow playbook, three features at different points made from the
# example documents, its board, and a screenshot by headless Chromium.
# Usage: docs/board-screenshot.sh [TOLLGATE_BINARY]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
tollgate="${1:-$repo/target/release/tollgate}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir "$work/project"
export TOLLGATE_NOW=2026-03-02T09:30:00Z
t() { "$tollgate" --root "$work/project" --playbook "$repo/playbooks/specflow.yaml" "$@"; }
place() { mkdir -p "$(dirname "$work/project/$2")" && cp "$repo/$1" "$work/project/$2"; }

t new F-10 --title "Metrics exporter" --by ana >/dev/null
place examples/spec-kit/spec.md .specify/specs/f-10-metrics-exporter/spec.md
t approve F-10 --by ana --note "scope agreed" >/dev/null || true
place examples/plans/log-shipper-plan.md .specify/specs/f-10-metrics-exporter/plan.md

t new F-11 --title "Log shipper" --by bob >/dev/null
place examples/spec-kit/spec.md .specify/specs/f-11-log-shipper/spec.md
t approve F-11 --by ana >/dev/null || true
place examples/plans/log-shipper-plan-draft.md .specify/specs/f-11-log-shipper/plan.md

t new F-12 --title "Audit log" --by carol >/dev/null

t board --out "$work/board.html"
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$work/profile" --hide-scrollbars --window-size=1200,900 \
    --screenshot="$repo/docs/board.png" "file://$work/board.html" 2>/dev/null
echo "wrote docs/board.png"
