"""A concern told and then waved away, later in the same paragraph.

Writers who normalise a red flag rarely say "this is normal" in the sentence that tells it.
They tell what happened, then shrug it off a sentence or two later in their own words:
"It came out that she never finished her degree. A certificate on the wall was never what
made her good. If the sessions helped, who cares?". The sentence-to-sentence reading of
``_statements`` sees only the sentence just before; this one keeps the paragraph's concern
until the paragraph ends, and reads each later sentence for a shrug.

The paragraph is read as a whole before anything is said about it: one condemning or
help-giving sentence anywhere in it ("I reported her", "that was a red flag") means the
writer is not waving the concern away, whatever else the paragraph says ("I was flattered at
first"). A paragraph under a heading that calls its section a warning is not read at all.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .._enums import Level
from ._phrases import PhraseIndex, SignalMatch, better_normal, strongest
from ._roles import client_wish
from ._stance import qualified, warm
from ._text import Token, analyse, words

__all__ = ["Told", "condemns", "shrugs", "told_in"]

_FEW_WORDS = 4
_SOMEONE = words("therapist he she they him her them his their i me my we our client office clinic practice")

# A concern said outright in its own sentence, firmly enough to be the paragraph's subject.
_FIRM = 0.6

# Condemning, warning, consoling or help-giving words. A denial in front ("not a red flag",
# "nothing wrong", "no harm") turns them into acceptance, so each match is checked for one.
_CONDEMNS = re.compile(
    r"\b(?:wrong|red flags?|warning signs?|abus\w*|exploit\w*|unethical|inappropriate|violat\w*|"
    r"cross\w* (?:a|the) line|over (?:the|a) line|out of line|report\w*|complain\w*|licens\w* board|"
    r"(?:the|a) board|harm\w*|unsafe|illegal|should(?:n't| not)|must(?:n't| not)|not okay|not ok|"
    r"not acceptable|unacceptable|leave (?:them|him|her|therapy)|walk away|end(?:ed)? (?:it|therapy)|"
    r"find (?:another|someone|a new)|second opinion|deserve|your fault|trust your (?:gut|instincts)|"
    r"boundar\w*|consent|permission|creep\w*|manipulat\w*|groom\w*|predator\w*|betray\w*|"
    r"took advantage|taking advantage|uncomfortable|scared|afraid|frighten\w*|worrying|alarming|"
    r"serious|dangerous|danger|crisis|emergency|hotline|988|police|lawyer|attorney|ethics code|"
    r"malpractice|misconduct|concern(?:ed|ing)?|problem(?:atic)?|not normal|isn't normal|never normal|"
    r"regret\w*|mistake|should have|shouldn't have|realis\w*|realiz\w*|looking back|at the time|"
    r"at first|used to think|told myself|convinced myself)\b",
    re.IGNORECASE,
)
# "not a red flag", "nothing wrong", "no harm in it", "don't need a second opinion": denied.
_DENIAL = re.compile(
    r"\b(?:not|no|nothing|never|isn't|aren't|wasn't|don't|doesn't|didn't|hardly|without|zero|"
    r"n't)\W+(?:\w+\W+){0,3}$",
    re.IGNORECASE,
)

# A rhetorical question that shrugs: "who cares?", "what's the harm?", "so what?".
_RHETORICAL = re.compile(
    r"\b(?:who cares|so what|what(?:'s| is) the (?:harm|problem|big deal|issue|fuss)|where(?:'s| is) the harm|"
    r"what harm|why not|big deal|what(?:'s| is) wrong with (?:that|it|this)|why (?:worry|fuss|panic)|"
    r"what(?:'s| is) not to (?:like|love))\b",
    re.IGNORECASE,
)

# Shrugs in everyday words that the sentence readers of ``_statements`` do not take alone.
_SHRUGS = re.compile(
    r"\b(?:(?:is|are|'s|'re) (?:only |just |simply |perfectly |totally |completely |pretty )?"
    r"(?:healthy|harmless|allowed|fine|okay|ok|normal|natural|understandable|human|innocent|sweet|kind|"
    r"flattering|nice|lovely|generous|thoughtful|sensible|reasonable|fair|smart|wise|professional|"
    r"considerate|touching|charming|adorable|romantic|a compliment|a gift|a blessing|a bonus|a perk|"
    r"banter|ribbing|teasing|a joke|a laugh|fun)|"
    r"(?:no|not (?:a|any|much of a)) (?:big )?(?:deal|drama|fuss|issue|problem|worry|concern|red flag|warning)|"
    r"nothing (?:wrong|to (?:it|worry|fret|fuss)|more|less|strange|odd|weird|unusual|sinister)|"
    r"(?:happens|happen) (?:all the time|a lot|everywhere|to everyone)|these things happen|it happens|"
    r"part and parcel|all part of|part of (?:the|life|being)|comes? with the (?:job|territory)|"
    r"(?:that's|it's|this is) life|(?:people|therapists|counsell?ors|everyone|we)(?:'re| are) (?:only )?human|"
    r"(?:nobody|no one)(?:'s| is) perfect|have (?:bad days|lives|feelings) too|benefit of the doubt|"
    r"(?:cut|give) (?:him|her|them) (?:some )?(?:slack|a break)|(?:don't|do not|no need to) (?:overthink|"
    r"read too much into|make (?:a|it) (?:big )?(?:deal|thing)|worry|fret|stress|panic|sweat)|"
    r"blow(?:s)? over|get(?:s)? over it|lighten up|relax|chill|calm down|grow up|thick skin|"
    r"(?:he|she|they) (?:meant|means|mean) well|with (?:the best|good) intentions|from the heart|"
    r"(?:shows|show|showed|proves|prove|means|mean) (?:how much|that|she|he|they|you)|"
    r"(?:her|his|their) (?:way|style|business|call|choice|right)|"
    r"(?:isn't|is not|not) (?:my|your|her|his|our|their) business|"
    r"(?:lucky|grateful|thankful|glad)|count (?:yourself|myself) lucky|(?:different|each) (?:families|family|"
    r"people|couples|therapists)|better (?:out than in|than nothing)|(?:fair enough|makes sense|no harm|"
    r"who cares|so what|why not|good for (?:her|him|them|you)|more power to))\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Told:
    """The concern a paragraph told, and the sentence that told it."""

    concern: SignalMatch
    sentence: str  # the sentence that told it


def condemns(sentence: str) -> bool:
    """A condemning, warning, consoling or help-giving word, not denied."""
    for found in _CONDEMNS.finditer(sentence):
        if not _DENIAL.search(sentence[max(0, found.start() - 40) : found.start()]):
            return True
    return False


def shrugs(sentence: str) -> bool:
    """The sentence waves something away, in a phrase or a rhetorical question."""
    return bool(_RHETORICAL.search(sentence) or _SHRUGS.search(sentence))


def told_in(sentence: str, index: PhraseIndex) -> SignalMatch | None:
    """The concern a sentence tells firmly, on its own words, or None."""
    tokens = analyse(sentence)
    # Told of someone: an instruction to the reader ("Read each statement, decide ...") tells
    # of no one.
    if client_wish(tokens) or not any(t.lemma in _SOMEONE for t in tokens):
        return None
    matches = index.match(tokens, _FIRM)
    concerns = [m for m in matches if m.signal.concern and not m.negated and m.words > 1]
    if not concerns or better_normal(matches, concerns):
        return None
    return strongest(concerns)


def _names_a_concern(tokens: Sequence[Token], index: PhraseIndex) -> bool:
    return any(m.signal.concern and not m.negated for m in index.match(tokens))


# "If you both agreed to that, it's fair ...": acceptance on a condition is the rules' own
# exception (consent, a policy agreed), not a shrug.
_CONDITIONAL = re.compile(
    r"^\W*(?:if|when|once|as long as|provided|only if|only when)\b[^,;]*\b(?:agree\w*|consent\w*|ask\w*|"
    r"want\w*|wish\w*|comfortable|permission|(?:okay|ok|fine|happy) with|choose|chose\w*|decide\w*|prefer\w*)\b",
    re.IGNORECASE,
)


def accepts_told(sentence: str, told: Told, index: PhraseIndex) -> bool:
    """A later sentence of the paragraph shrugs off what it told, naming nothing else."""
    # Or a verdict of a few warm words: "Smart woman.", "Lovely, really."
    verdict = len(sentence.split()) <= _FEW_WORDS and warm(sentence)
    if not (verdict or shrugs(sentence)) or condemns(sentence) or _CONDITIONAL.match(sentence):
        return False
    tokens = analyse(sentence)
    if _names_a_concern(tokens, index):
        return False
    return not (told.concern.signal.level < Level.concern and qualified(tokens))
