"""Write the linter's prebuilt data: ``src/therapy_signals/lint/_data/`` (lemmas.tsv, phrases.json).

    .venv/bin/python scripts/build_lint_data.py          # regenerate both files (make lint-data)
    .venv/bin/python scripts/build_lint_data.py --check  # exit 1 when either differs from a fresh build

Run it after changing ``lint/_text.py``, ``lint/_phrases.py``, ``lint/_roles.py``,
``_evaluate.py``, ``_facts.py``, the rule files, or lemminflect: until then the linter computes
the data at every start (as right, 1 s slower), and ``tests/lint/test_prebuilt.py`` fails.
docs/decisions/0020-linter-start-up.md and lint/_prebuilt.py say what the files hold and when
they are used.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

# The data is computed the slow way, from lemminflect and the rule base, never from itself.
os.environ["THERAPY_SIGNALS_NO_PREBUILT"] = "1"

from therapy_signals.lint import _prebuilt
from therapy_signals.lint._lemmas import lemmas_data, read_lemmas, write_lemmas
from therapy_signals.rulebook import RuleBook


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when a file is stale")
    args = parser.parse_args()
    if os.environ.get("THERAPY_SIGNALS_RULES"):
        parser.error("THERAPY_SIGNALS_RULES is set: the data is for the shipped rule base only; unset it")
    started = time.perf_counter()
    lemmas = lemmas_data()
    phrases = _prebuilt.phrases_data(RuleBook.load())
    stale = [
        path
        for path, fresh in (
            (_prebuilt.LEMMAS, read_lemmas() == lemmas),
            (_prebuilt.PHRASES, _prebuilt.read_data(_prebuilt.PHRASES) == phrases),
        )
        if not fresh
    ]
    if args.check:
        for path in stale:
            print(f"stale: {path}; regenerate with {_prebuilt.REGENERATE}", file=sys.stderr)
        return 1 if stale else 0
    write_lemmas(lemmas)
    _prebuilt.write_phrases(phrases)
    assert read_lemmas() == lemmas, f"{_prebuilt.LEMMAS} does not read back as written"
    assert _prebuilt.read_data(_prebuilt.PHRASES) == phrases, f"{_prebuilt.PHRASES} does not read back as written"
    print(
        f"wrote {_prebuilt.LEMMAS.name} ({len(lemmas['forms']):,} words) and {_prebuilt.PHRASES.name} "
        f"({len(phrases['phrasings']):,} phrasings of {len(phrases['signals'])} signals) "
        f"in {time.perf_counter() - started:.1f} s",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
