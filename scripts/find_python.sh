#!/usr/bin/env bash
# Print the interpreter `make setup` should use: Python 3.12 when present (ansible-core 2.21,
# kubernetes.core 6.6), else 3.11 (ansible-core 2.19). pyenv installs are found even when not selected.
set -euo pipefail
works() { "$1" -c 'import sys, venv, ensurepip' >/dev/null 2>&1; }
for version in 3.12 3.11; do
  candidates=("python$version")
  if command -v pyenv >/dev/null 2>&1; then
    for p in "$(pyenv root)"/versions/"$version".*/bin/python"$version"; do candidates+=("$p"); done
  fi
  for p in "${candidates[@]}"; do
    if works "$p"; then
      command -v "$p"
      exit 0
    fi
  done
done
echo "find_python: neither Python 3.12 nor 3.11 with venv and ensurepip was found" >&2
exit 1
