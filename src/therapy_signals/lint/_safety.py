"""Safety without next steps: serious or urgent concerns, and nowhere to turn.

An article that discusses sexual contact, threats, self-harm or a loan from a therapist
leaves a reader who recognises it with a question: what now? The rule base answers with
resources and steps (another professional, the licensing board, a crisis line); an article
should too. One finding per article, at the first mention.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from ._document import Document
from ._finding import LintFinding, LintLevel
from ._phrases import PhraseIndex, strongest
from ._text import analyse

__all__ = ["NEXT_STEPS", "check_next_steps"]

# What counts as a resource or a next step. Writers can add their own in the configuration.
NEXT_STEPS = (
    r"crisis (?:line|text line|center|centre|team|service)",
    r"hot ?line",
    r"help ?line",
    r"lifeline",
    r"\b(?:988|911|999|112|000)\b",
    r"samaritans",
    r"emergency (?:services|room|department|number)",
    r"licens\w{0,12} (?:board|body|authority)",
    r"(?:state|regulatory|professional|ethics) (?:board|body|committee|association)",
    r"(?:file|make|lodge|submit) (?:a |an )?(?:formal )?(?:complaint|report)",
    r"report (?:it|them|this|that|the therapist|your therapist|to)\b",
    r"second opinion",
    r"(?:another|a different|a new|an independent) (?:licensed )?(?:therapist|professional|counsell?or|clinician|"
    r"provider|psychologist|practitioner)",
    r"(?:talk|speak|reach out) (?:to|with) (?:a |an |your )?(?:doctor|gp|lawyer|attorney|advocate|trusted)",
    r"domestic (?:violence|abuse) (?:hotline|shelter|advocate|service)",
    r"safety plan",
    r"(?:call|contact) the police",
    r"(?:seek|get|find) (?:help|support)",
    r"(?:consultation|consult) with",
    r"(?:stop|end|quit) (?:seeing|therapy with)",
    r"\bbe reported\b",
    r"\breport (?:him|her)\b",
    r"find (?:another|a new|a different|someone else|a better)(?: (?:one|therapist|counsell?or|professional))?",
    r"(?:switch|change) (?:therapists|counsell?ors|providers)",
    r"(?:let|tell) (?:the|your) (?:group )?(?:leader|clinic|supervisor|practice manager|clinical director) know",
    r"(?:tell|inform|contact) (?:the|your) (?:group )?(?:leader|clinic|supervisor|practice manager|clinical director)",
)
# A next step named only to be waved away ("you don't need a second opinion", "no need to
# report it") or as the condition of something else ("dating a counselor once you stop
# seeing them") recommends nothing.
_WAVED_AWAY = re.compile(
    r"\b(?:don't|don\u2019t|doesn't|doesn\u2019t|do not|does not|no need|not|never|without|skip|no point|nor|"
    r"isn't|isn\u2019t|aren't|aren\u2019t|needn't|instead of|rather than|no reason)\b[^.!?\n]{0,25}$",
    re.IGNORECASE,
)
_AS_A_CONDITION = re.compile(
    r"\b(?:once|after|when|until|before|if|since|whenever|now that)\s+(?:you|they|he|she|we|the client|"
    r"the therapist)\s+(?:\w+\s+){0,2}$",
    re.IGNORECASE,
)
_SENTENCE_START = re.compile(r"[.!?\n][^.!?\n]*$")
# A link to a crisis service counts too. It is looked for URL by URL, not as one more
# phrase: "https?://\S*(?:988|...)" read to the end of the URL from every "http" in it, so
# "http://http://..." was quadratic (as "licens\w*" was in "licenslicens...").
_URL = re.compile(r"https?://\S*", re.IGNORECASE)
_URL_RESOURCE = re.compile(r"988|hotline|lifeline|samaritans|crisis", re.IGNORECASE)


def next_steps_pattern(extra: Sequence[str] = ()) -> re.Pattern[str]:
    phrases = [*NEXT_STEPS, *(re.escape(p.lower()) for p in extra)]
    return re.compile("|".join(f"(?:{p})" for p in phrases), re.IGNORECASE)


def _recommends(raw: str, pattern: re.Pattern[str]) -> bool:
    """Some next step in ``raw`` is recommended, not waved away or named as a condition."""
    for match in pattern.finditer(raw):
        before = raw[max(0, match.start() - 120) : match.start()]
        start = _SENTENCE_START.search(before)
        if start is not None:
            before = before[start.start() + 1 :]
        if _WAVED_AWAY.search(before) or _AS_A_CONDITION.search(before):
            continue
        return True
    return False


def _resource_url(raw: str) -> bool:
    return any(_URL_RESOURCE.search(url.group(), 7) for url in _URL.finditer(raw))


def check_next_steps(
    document: Document, raw: str, index: PhraseIndex, path: str, pattern: re.Pattern[str]
) -> Iterator[LintFinding]:
    """safety.no-next-steps: at most one finding, at the first serious concern."""
    if _recommends(raw, pattern) or _resource_url(raw):
        return
    for prose in document.prose:
        if prose.kind == "heading":
            continue  # a heading names a topic; the prose under it discusses it
        text = prose.text
        for start, end in prose.sentences():
            matches = [m for m in index.match(analyse(text[start:end])) if m.signal.serious and not m.negated]
            if not matches:
                continue
            best = strongest(matches)
            signal = best.signal
            line, column = prose.where(start + best.start)
            end_line, end_column = prose.where(start + best.end)
            yield LintFinding(
                path,
                line,
                column,
                end_line,
                end_column,
                LintLevel.warning,
                "safety.no-next-steps",
                f"the article discusses {signal.label} (signal {signal.id}; rule {signal.rule} is at level "
                f"{signal.level.value}) but gives no resource or next step: name another professional, "
                "the licensing board, or a crisis line",
                signal.id,
                signal.rule,
                signal.level,
            )
            return
