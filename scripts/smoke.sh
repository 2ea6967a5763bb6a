#!/usr/bin/env bash
# Build the wheel once, then on each Python 3.11-3.13 found here: a clean venv, the wheel,
# `rules validate`, and `explain` on every example, run from a folder outside the checkout.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
rm -rf dist
out=$(.venv/bin/python -m build --wheel --outdir dist . 2>&1) || { echo "$out"; exit 1; }
wheel=$(ls dist/therapy_signals-*.whl)

pythons=()
root=$(pyenv root 2>/dev/null || true)
for minor in 3.11 3.12 3.13; do
  found=""
  if [ -n "$root" ]; then
    found=$(ls -d "$root"/versions/"$minor".*/bin/python3 2>/dev/null | sort -V | tail -n 1 || true)
  fi
  [ -n "$found" ] || found=$(command -v "python$minor" || true)
  if [ -n "$found" ]; then pythons+=("$minor=$found"); else echo "smoke: no Python $minor here, skipped"; fi
done

outside=$(mktemp -d)
trap 'rm -rf "$outside"' EXIT
for entry in "${pythons[@]}"; do
  minor=${entry%%=*}; python=${entry#*=}
  venv="$here/.venv-smoke-$minor"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  # This machine's pip config names local indexes that may be absent: drop those warnings only.
  CPPFLAGS=-DPyEval_CallObject=PyObject_CallObject \
    "$venv/bin/python" -m pip install --disable-pip-version-check -q "$wheel" \
    2> >(grep -v "^WARNING: Location 'file:" >&2)
  (
    cd "$outside"
    "$venv/bin/therapy-signals" rules validate >/dev/null
    count=0
    for scenario in "$here"/examples/scenarios/*.json; do
      "$venv/bin/therapy-signals" explain "$scenario" --format json >/dev/null
      count=$((count + 1))
    done
    where=$("$venv/bin/python" -c "import therapy_signals.rulebook as r; print(r.load_rulebook().root)")
    case "$where" in "$venv"/*) ;; *) echo "smoke: rules came from $where, not the wheel"; exit 1;; esac
    echo "smoke: Python $("$venv/bin/python" -c 'import platform; print(platform.python_version())'): wheel installed, rules validate, $count examples explained"
  )
  rm -rf "$venv"
done
