#!/usr/bin/env bash
# gen-cli-doc.sh — write docs/cli.md from the binary's own --help texts, so the reference
# cannot drift from the program (tests/cmake/cli_doc.cmake fails when it does).
# Usage: scripts/gen-cli-doc.sh BALEEN_BINARY > docs/cli.md
set -euo pipefail
bin=${1:?usage: gen-cli-doc.sh BALEEN_BINARY}
cat <<'MD'
# baleen command-line reference

One binary, `baleen <command> [options]`. Every command prints this help with `--help`.
Exit codes (everywhere): 0 done, 1 usage or config error (nothing run), 2 some inputs
failed (the rest done), 3 fatal runtime error.

This page is generated from the binary's help texts by `scripts/gen-cli-doc.sh`; a test
fails when it is out of date (regenerate: `scripts/gen-cli-doc.sh build/release/baleen > docs/cli.md`).

MD
section() {
  printf '## `baleen %s`\n\n```text\n' "$1"
  shift
  "$bin" "$@" --help 2>&1
  printf '```\n\n'
}
printf '## `baleen`\n\n```text\n'
"$bin" --help 2>&1
printf '```\n\n'
section synth synth
section features features
section "config" config
section "model" model
section run run
section export export
section bench bench
section devices devices
