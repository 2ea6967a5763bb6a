"""Normalising statements: a sentence that calls a concern acceptable.

A finding needs, within one clause of one sentence, a concern the rules treat as more than
normal ("asks you for a loan") and a predicate that calls it acceptable ("it's fine if",
"is perfectly normal", "nothing to worry about", "just shows they care"). Stance decides
the rest:

- a negated predicate condemns ("it is never okay ..."); a negated concern is not there
  ("it's fine that your therapist never texts you");
- a question asks ("Is it normal for ...?");
- reported or hedged speech ("some therapists claim it's fine", "it may seem harmless")
  is not the writer's own claim;
- acceptance of the client's reaction is not acceptance of the concern ("it's okay to say
  no if your therapist asks you for a loan", "it's normal to feel confused when ...");
- a qualified acceptance of a crossing the rules only ask you to discuss ("a hug is fine if
  you want one") echoes the rules' own *normal when*; a concern-level rule has no such
  exception;
- the client's wish ("wanting a hug from your therapist is normal") is a feeling, not
  something the therapist did.

A sentence may also accept what the sentence before it said: an answer to a question ("Is it
okay that my counselor texts me after midnight?" "Of course.") or a sentence that refers
back ("She said she'd drop me if I complained. That's how close relationships work."). The
finding is then on the accepting sentence, about the concern of the one before.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from .._enums import Category, Level
from ._document import Document, Prose
from ._finding import LintFinding, LintLevel
from ._framing import Frame, frame_of
from ._phrases import PhraseIndex, SignalMatch, better_normal, strongest
from ._roles import client_wish, therapist_roles
from ._stance import qualified, warm
from ._text import Token, analyse, words
from ._waved_away import Told, accepts_told, condemns, told_in

__all__ = ["check_statements", "normalising_predicate"]

_ACCEPT = words(
    """
        okay fine normal acceptable appropriate healthy harmless natural common ethical professional
        standard usual expected typical understandable reasonable innocent benign allow permissible
        legitimate sweet flattering caring generous thoughtful nice good great compliment harmless
        friendly kind warm considerate affectionate supportive human fair lovely sensible wise smart
        """
)
# Negated, these call something acceptable: "nothing wrong with", "not a red flag".
_WARN = words(
    """
        wrong deal flag sign concern alarm worry problem unusual inappropriate unethical violation cross
        abuse harmful dangerous bad issue unprofessional alarming panic overthink weird creepy fret sinister
        """
)
_COPULA = frozenset(
    {"be", "consider", "count", "call", "remain", "perfectly", "totally", "completely", "quite", "look", "sound"}
)
# "That's *just* a confidence boost", "is *simply* protecting the work": minimising.
_MINIMISERS = frozenset({"just", "simply", "merely", "only", "nothing", "purely"})
# Nouns that praise what they name: "that's a compliment", "the beauty of telehealth".
_PRAISE = words(
    """
        compliment boost gesture perk bonus advantage beauty benefit plus privilege honor honour kindness
        courtesy favor favour blessing treat luxury win gift testament
        """
)
_CARE = words(
    """
        care caring close closeness special bond trust connection connect love like confidential
        confidentiality commitment committed dedication dedicated devotion devoted attention invested
        genuine deep strong safe respect value appreciate matter important seriously friendship friend
        affection warm warmth human
        """
)
_SHOWS = words("show mean sign prove proof demonstrate reflect indicate signal")
_TERRITORY = words("territory job work role profession field")
_WORKS = words("work go happen function operate learn grow build connect bond care do help")
_OFTEN = words("time often lot always everywhere commonly frequently")
# "part of the process", and of a bargain accepted whole: "part of the deal", "of the package".
_PART_OF = frozenset(
    {"therapy", "process", "healing", "treatment", "relationship", "job", "work", "growth", "deal", "package"}
)
_REPORTED = words(
    """
        think believe say myth misconception assume pretend convince persuade justify rationalize
        rationalise excuse argue hear seem appear sound imply suggest lie manipulate gaslight
        """
)
_REACTIONS = words(
    """
        feel say ask end report refuse decline question raise bring talk want wish seek find change switch
        walk set cry need take check consult notice wonder discuss share speak disagree pause push upset
        angry confuse uncomfortable unsure hurt fear attract miss grieve sad cope react respond laugh
        shock shocked surprise surprised mixed feeling emotional anxious nervous embarrass embarrassed
        unease overwhelm overwhelmed frustrate frustrated disappoint disappointed betray betrayed
        """
)
# Feelings of the client's: "When a therapist crosses a line, you may feel confused. That's
# normal." accepts the confusion, not the crossing.
_FEELINGS = words(
    """
        feel upset angry confuse uncomfortable unsure hurt fear sad anxious nervous embarrass embarrassed
        unease overwhelm overwhelmed frustrate frustrated disappoint disappointed betray betrayed guilty
        ashamed shame scared lonely grieve miss attach attached attract attracted cry shock shocked jealous
        """
)


def _feels(tokens: Sequence[Token]) -> bool:
    """The client feels something in the sentence: "you may feel", "I was confused"."""
    words = [t for t in tokens if not t.punct]
    return any(
        token.lemma in _FEELINGS
        and not token.negated
        and (token.lemma == "feel" or any(t.lemma in _FEELERS for t in words[max(0, index - 4) : index]))
        for index, token in enumerate(words)
    )


_FEELERS = words("you i we client parent people many most everyone someone")


# A cheap first look: a sentence with none of these word beginnings has no predicate.
_PREDICATE_HINT = re.compile(
    r"\b(?:ok|alright|fine|normal|accept|appropriat|health|harmless|natural|common|ethic|profession|standard|"
    r"usual|expect|typical|understand|reasonabl|innocen|benign|allow|permiss|legit|sweet|flatter|caring|"
    r"generous|thought|nice|good|great|compliment|wrong|deal|flag|sign|concern|alarm|worr|problem|unusual|"
    r"inappropriat|unethical|violat|cross|abus|harm|danger|bad|issue|unprofessional|show|mean|prov|part|"
    r"friendly|kind|warm|consider|affection|support|human|way|come|came|how|happen|demonstrat|reflect|"
    r"indicat|signal|panic|fuss|overthink|weird|creep|beaut|boost|gesture|perk|bonus|advantage|benefit|plus|"
    r"privilege|hono|kindness|courtesy|favo|blessing|treat|luxury|win|gift|testament|just|simpl|merely|only|"
    r"purely|read|reason|fair|lovely|sensible|wise|smart|look|sound)",
    re.IGNORECASE,
)
_CONTRAST = frozenset({"but", "however", "whereas", "although", "though", "unlike", "yet"})


def _clauses(tokens: Sequence[Token]) -> Iterator[list[Token]]:
    clause: list[Token] = []
    for token in tokens:
        if token.lemma in _CONTRAST or token.lemma in (";", "\u2014", "\u2013", "-", "(", ")"):
            if clause:
                yield clause
            clause = []
            continue
        clause.append(token)
    if clause:
        yield clause


def normalising_predicate(clause: list[Token]) -> int | None:
    """Index in ``clause`` of a predicate that calls something acceptable, or None.

    A predicate that condemns ("never okay", "a red flag") returns None too: the caller only
    needs the normalising ones.
    """
    words = [t for t in clause if not t.punct]
    for index, token in enumerate(words):
        if _accepts_at(words, index):
            return clause.index(token)
    return None


def _accepts_at(words: list[Token], index: int) -> bool:
    token = words[index]
    lemma = token.lemma
    before = {t.lemma for t in words[max(0, index - 4) : index]}
    after = {t.lemma for t in words[index + 1 : index + 7]}
    if lemma in _WARN and token.negated:
        return _denied(words, index)  # "nothing wrong with", "no big deal", "don't worry"
    if lemma == "read" and token.negated and "into" in after:
        return True  # "don't read too much into it"
    if lemma == "reason" and token.negated:
        return True  # "no reason to make a big deal of it"
    if _negated(words, index):
        return False
    if lemma in _ACCEPT or lemma in _PRAISE:
        if _prevalence(words, index) or _called_by_someone(words, index):
            return False
        return bool(before & _COPULA) or lemma == "allow"
    if lemma in _MINIMISERS and "be" in before and lemma != "nothing":
        rest = words[index + 1 : index + 6]
        return bool(rest) and not any(t.lemma in _WARN or t.lemma == "not" for t in rest)
    if lemma in _SHOWS:
        # "it only proves how confidential therapy is", "a sign of how deeply ..."
        following = [t.lemma for t in words[index + 1 : index + 4]]
        return bool(after & _CARE) or ("how" in following and not any(t.lemma in _WARN for t in words[index + 1 :]))
    if lemma == "part":
        return bool(after & _PART_OF) and "be" in before
    following = [t.lemma for t in words[index + 1 : index + 3]]
    if lemma == "way" and following[:1] == ["of"]:
        return "be" in before  # "is their way of caring"
    if lemma == "come" and following[:1] == ["with"]:
        return bool(after & (_CARE | _PART_OF | _TERRITORY))  # "comes with a deep connection"
    if lemma == "how" and ("be" in before or "that" in before):
        # "that's how close relationships work", "that's simply how therapists learn"
        rest = words[index + 1 : index + 8]
        return bool(after & _WORKS) and not any(t.lemma in _WARN and not t.negated for t in rest)
    return lemma == "happen" and bool(after & _OFTEN)  # "it happens all the time"


# Between a denial and what it denies: "not *a real* red flag", "nothing *to* worry about".
_DENIAL_FILLER = words("a an the big real red any much cause for of to about reason at all such serious major")
_DENIERS = words("be not nothing no never do need should must will can")


def _prevalence(words: list[Token], index: int) -> bool:
    """ "More common than most people realise" says how often, not that it is fine."""
    following = words[index + 1].lemma if index + 1 < len(words) else ""
    preceding = words[index - 1].lemma if index else ""
    return words[index].lemma in _HOW_OFTEN and (following == "than" or preceding in ("more", "less", "most", "so"))


_HOW_OFTEN = words("common usual typical normal")
_NAMING = words("call consider count")
_OTHERS = words("she he they therapist counselor people some others many")


def _called_by_someone(words: list[Token], index: int) -> bool:
    """ "She called it a compliment": someone else's word for it, not the writer's."""
    for at in range(max(0, index - 4), index):
        if words[at].lemma in _NAMING and any(t.lemma in _OTHERS for t in words[max(0, at - 2) : at]):
            return True
    return False


def _denied(words: list[Token], index: int) -> bool:
    """The warning word is denied by the sentence's own claim ("is not a red flag", "no need to
    worry"), not negated by some other verb's scope ("not seeing any of these signs")."""
    for token in reversed(words[max(0, index - 4) : index]):
        if token.lemma in _DENIERS:
            return True
        if token.lemma not in _DENIAL_FILLER:
            return False
    return False


def _negated(words: list[Token], index: int) -> bool:
    """The word, or the phrase it heads ("not a normal part"), is negated."""
    return words[index].negated or any(t.lemma == "not" for t in words[max(0, index - 3) : index])


def _reports(words: list[Token], at: int) -> bool:
    """A reporting verb heads the clause ("Some people *think* ...", "Others *argue* that ..."),
    not one inside it ("when you argue"), and not a comma before the claim ("when you argue,
    that's just passion": the claim is the writer's), nor the writer's own view ("I think")."""
    if words[at].lemma not in _REPORTED or _own_view(words, at):
        return False
    following = words[at + 1] if at + 1 < len(words) else None
    if following is not None and following.start > words[at].end + 1:
        return at < 4  # something (a comma) stands between the verb and what follows
    return at < 4 or (following is not None and following.lemma in ("that", "it", "this"))


# "I *used to* think", "I *once* believed": a view the writer has left behind.
_FORMERLY = words("use once first before")


def _own_view(words: list[Token], at: int) -> bool:
    """'I think that ease is a good sign': the writer's own claim in the first person, not a
    report of someone else's (a view the writer held once is reported: "I used to think")."""
    if words[at].lemma not in ("think", "believe", "feel", "reckon", "guess") or at == 0:
        return False
    return words[at - 1].lemma in ("i", "we") and not any(t.lemma in _FORMERLY for t in words[max(0, at - 4) : at])


def _reaction_after(words: list[Token], at: int) -> bool:
    """'It's okay *to say no* if ...', 'it's normal *if you feel* ...': the client's reaction.

    "It's fine *to* do something" with no therapist in it is the reader's own act too ("it's
    okay to borrow money from family"); with one, it may be a crossing ("to lend your therapist
    money").
    """
    rest = [t.lemma for t in words[at + 1 : at + 8]]
    for position, lemma in enumerate(rest):
        if lemma == "to":
            # "to feel", "to be confused", "to get upset", "to have mixed feelings"
            following = [w for w in rest[position + 1 : position + 4] if w not in ("be", "get", "have", "feel")]
            verb = rest[position + 1] if position + 1 < len(rest) else ""
            if verb in _REACTIONS or (bool(following) and following[0] in _REACTIONS):
                return True
            act = [t.lemma for t in words[at + position + 2 : at + position + 12]]
            return position == 0 and "therapist" not in act
        if lemma in ("if", "when", "that") and position + 1 < len(rest):
            subject = rest[position + 1]
            if subject in ("you", "i", "client", "we"):
                verbs = [v for v in rest[position + 2 : position + 5] if v not in ("be", "do", "not", "still")]
                return bool(verbs) and verbs[0] in _REACTIONS
            return False
        if lemma in ("for",):
            subject = rest[position + 1] if position + 1 < len(rest) else ""
            return subject in ("you", "client", "i", "we")
    return False


def statement_finding(clause: list[Token], index: PhraseIndex) -> tuple[SignalMatch, int] | None:
    """The concern a clause calls acceptable, with the predicate's index, if it does."""
    at = normalising_predicate(clause)
    if at is None:
        return None
    words = [t for t in clause if not t.punct]
    predicate = clause[at]
    position = words.index(predicate)
    if _reaction_after(words, position):
        return None
    # The predicate's own words are not the thing accepted ("that's *fine*" is no fine; "it
    # shows *how much they trust you*" is praise, not a signal).
    matches = index.match(_without_predicate(clause, at))
    concerns = [m for m in matches if m.signal.concern and not m.negated]
    if not concerns or better_normal(matches, concerns):
        return None
    # "Some people think ...": reported before the predicate, outside what the concern says
    # ("when your therapist *tells* you about other clients, it proves ...").
    inside = range(min(m.start for m in concerns), max(m.end for m in concerns))
    if any(_reports(words, at) and words[at].start not in inside for at in range(position)):
        return None
    best = strongest(concerns)
    if best.signal.level < Level.concern and (qualified(clause) or _client_acts(clause, best)):
        return None
    return best, at


def _client_acts(clause: list[Token], match: SignalMatch) -> bool:
    """The client does it to the therapist ("inviting your therapist to your wedding is a warm
    gesture"): a boundary crossing the rules only ask to discuss is the client's to offer. Not
    so for dependency: the client texting the therapist every day is the concern itself."""
    if match.signal.category is not Category.boundaries:
        return False
    content = [t for t in clause if t.content]
    roles = therapist_roles(clause)
    return any(
        role == "object" and match.start <= token.start < match.end for token, role in zip(content, roles, strict=True)
    )


_PRAISING = _SHOWS | _PRAISE | _MINIMISERS | {"way", "come", "part", "how", "happen"}


def _without_predicate(clause: list[Token], at: int) -> list[Token]:
    """The clause with the predicate blanked out: its word, and the praise that follows a
    praising one ("proves how close you are", "is just a confidence boost")."""
    end = len(clause) if clause[at].lemma in _PRAISING else at + 1
    return [t if not at <= i < end else _blank(t) for i, t in enumerate(clause)]


def _blank(token: Token) -> Token:
    return Token("", token.start, token.end, False, False)


# Answers, read from the sentence's first words: yes-like, no-like, or conditional ("only if
# it bothers you": fine otherwise).
def _answer_starting(words: str) -> re.Pattern[str]:
    """An answer that opens with one of ``words`` (a "|" list), after an optional "A:"."""
    return re.compile(rf"^\W*(?:a:\W*|answer:\W*)?(?:{words})\b", re.IGNORECASE)


_YES = _answer_starting(
    "yes|yeah|yep|yup|sure|absolutely|definitely|certainly|of course|totally|completely|perfectly|mostly|"
    "generally|usually|in most cases|normally"
)
_NO = _answer_starting("no|nope|nah|not really|not at all|not necessarily|never|hardly|not usually")
_ONLY_IF = _answer_starting("only if|only when|only as long as|as long as|unless|provided|if it")
# "This is normal", "That's how therapy works", "It's their way of caring": a subject that
# points back to the sentence before.
_POINTS_BACK = re.compile(
    r"^\W*(?:(?:and|but|so|honestly|really|trust me|relax)\W+)?(?:this|that|it|such|these|those|all of this|"
    r"none of this|none of that|which|that kind of thing|this kind of thing|behaviou?r like this)\b",
    re.IGNORECASE,
)
_POINTS_BACK_IN_QUESTION = re.compile(
    r"^\W*(?:q:\W*)?(?:is|isn't|was|are|should|can|does|would)\s+(?:that|this|it|all this|such a thing)\b",
    re.IGNORECASE,
)
# Short sentences that accept without a subject: "Nothing to worry about there."
_ELLIPTICAL = re.compile(
    r"^\W*(?:(?:honestly|really|so|and|but|relax)\W+)?(?:nothing to worry about|no big deal|no harm done|"
    r"no harm in it|not a problem|no problem|not a big deal|not an issue|no cause for concern|nothing wrong|"
    r"nothing unusual|nothing strange|nothing weird|(?:totally|perfectly|completely|entirely|quite) "
    r"(?:normal|fine|okay|ok|harmless|natural|common)|all (?:normal|fine|good)|happens all the time|"
    r"normal stuff|standard stuff|pretty normal|pretty standard)\b",
    re.IGNORECASE,
)
_SHORT = 10
# Idioms that accept or wave away, wherever they stand in a sentence.
_IDIOMS = re.compile(
    r"\b(?:nothing (?:to (?:lose sleep|fret|stress|get worked up) (?:over|about)|sinister|shady|untoward|"
    r"improper|suspicious|to see here)|no (?:need|reason|cause) to (?:worry|fret|panic|stress|be alarmed|"
    r"be concerned|be suspicious|overthink)|(?:her|his|their|the therapist's|your therapist's) (?:call|right|"
    r"prerogative|choice) to make|(?:is|it's|that's) (?:her|his|their) (?:call|right|prerogative)|"
    r"(?:that's|it's|this is) how it should be|no rule against it|(?:everyone|everybody) wins|win-win|"
    r"the compliment (?:it|that) is|take (?:it|that) as a compliment|"
    r"that's all (?:it|this) is|the decent thing|a good thing|a healthy (?:sign|thing)|nothing more than|"
    r"no harm (?:in|done)|(?:she|he|they) (?:has|have) a point|fair enough|makes sense|"
    r"(?:a|the) (?:strong|healthy|good|close|special) (?:working )?(?:relationship|bond|connection)|"
    r"not a (?:failure|problem|red flag|warning sign|big deal)|nothing to worry about|what's the harm|"
    r"who cares|(?:nobody|no one) (?:got|gets|was) hurt|never hurt anyone|cut (?:him|her|them) some slack|"
    r"give (?:him|her|them) a break|(?:these|such) things blow over|times have changed|lucky you|"
    r"count yourself lucky|(?:that's|this is|is) called trust|the least (?:we|you|I) can do|"
    r"(?:she|he|they)(?:'s| has| have|'ve) earned it|(?:that's|it's|this is) not pressure|means well|"
    r"mean(?:s|t)? well|no (?:need|reason) to make (?:a )?(?:big )?(?:deal|fuss|drama)|"
    r"nothing to take personally|(?:it's|that's|is) a judg(?:e)?ment call|what you(?:'re| are) paying for|"
    r"(?:comes|come|came) with the territory|(?:therapists|counsell?ors|they) have lives too|"
    r"(?:therapists|counsell?ors) are (?:only )?(?:human|people)|"
    r"something (?:many|most|all|lots of|plenty of) (?:couples|people|families|clients) go through|"
    r"(?:every|any) (?:couple|family|relationship) has (?:its|their) (?:rough patches|ups and downs|moments))\b",
    re.IGNORECASE,
)

# A question asks whether something is acceptable ("is it okay ...?") or a problem ("should I
# worry ...?"); "yes" accepts the one and "no" the other.
_ASKS_ACCEPTABLE = words("okay fine normal acceptable appropriate allow healthy common usual typical ethical can may")
_ASKS_PROBLEM = words(
    """
        wrong flag worry concern problem unusual inappropriate unethical weird creepy strange bad alarm cross
        overstep concern abuse harmful dangerous sign suspicious
        """
)


class _Said:
    """A sentence that a later one may answer or refer back to; analysed only when asked."""

    __slots__ = ("_before", "_concern", "_found", "_source", "_text", "question", "same_paragraph")

    def __init__(self, text: str, question: bool, before: _Said | None, same_paragraph: bool = False) -> None:
        self._text = self._source = text
        self.question = question
        # Whether the sentence after this one is in the same paragraph.
        self.same_paragraph = same_paragraph
        self._found = False
        self._concern: SignalMatch | None = None
        # "My therapist says I'm her favourite. Is that normal?": the question points back.
        # "Maybe, one evening, they kissed you. Let yourself enjoy it. It shows how close you
        # are.": a sentence of the same paragraph that names nothing passes the one before on.
        # "My therapist wants our sessions kept secret. Should I worry?": a question of the same
        # paragraph that names nothing asks about the sentence before, as a statement would.
        points_back = question and _POINTS_BACK_IN_QUESTION.search(text)
        in_paragraph = before is not None and before.same_paragraph and not before.question
        self._before = before if points_back or in_paragraph else None

    @property
    def text(self) -> str:
        """The sentence the concern was found in (the one pointed back to, for "Is that normal?")."""
        return self._source

    def tokens(self) -> tuple[Token, ...]:
        return analyse(self._text)

    def concern(self, index: PhraseIndex) -> SignalMatch | None:
        """The concern this sentence describes, or the one before's when it names nothing."""
        if not self._found:
            self._found = True
            self._concern = self._own_concern(index)
            if self._concern is None and self._before is not None and not index.match(self.tokens()):
                self._concern = self._before._own_concern(index)
                self._source = self._before._text
        return self._concern

    def _own_concern(self, index: PhraseIndex) -> SignalMatch | None:
        tokens = self.tokens()
        if client_wish(tokens):
            return None
        # One word is not enough to say what a whole sentence was about.
        concerns = [m for m in index.match(tokens) if m.signal.concern and not m.negated and m.words > 1]
        return strongest(concerns) if concerns else None

    def asks(self) -> str | None:
        """'acceptable' or 'problem': what a question asks, if it asks either.

        A question about what the client may do ("Can I ask my therapist for a hug?", "Should
        I report it?") asks neither: its yes accepts the client's act, not the therapist's.
        """
        lemmas = [t for t in self.tokens() if not t.punct]
        for at, token in enumerate(lemmas[:3]):  # "Can I ...", "Should I ...", not "... when I mention"
            if token.lemma in ("i", "we") and any(t.lemma in _REACTIONS for t in lemmas[at + 1 : at + 4]):
                return None
        if _about_reaction(self.tokens()):
            return None  # "Is it okay to bring up these feelings?"
        problem = any(t.lemma in _ASKS_PROBLEM for t in lemmas)
        acceptable = any(t.lemma in _ASKS_ACCEPTABLE for t in lemmas)
        if problem == acceptable:
            return "acceptable" if acceptable and lemmas and lemmas[0].lemma in ("can", "may") else None
        return "problem" if problem else "acceptable"


# A verdict on a statement, as quizzes and myth-busters give them: "False." after "A gift that
# big should be handed back." accepts the gift.
_TRUE = _answer_starting("true|fact")
_FALSE = _answer_starting("false|myth")
# A statement that advises against something calls it a problem: "you should say no".
_ADVISES_AGAINST = re.compile(
    r"\b(?:should|must|need to|ought to)\s+(?:\w+\s+){0,3}?(?:say no|hand (?:it|them) back|give (?:it|them) back|"
    r"refuse|decline|report|leave|stop|end)\b|\btoo (?:much|far)\b",
    re.IGNORECASE,
)


def _verdict_accepts(sentence: str, claim: _Said) -> bool | None:
    """Whether "True." or "False." accepts what the statement before claimed; None otherwise."""
    true, false = _TRUE.match(sentence), _FALSE.match(sentence)
    if not (true or false):
        return None
    says = "problem" if _ADVISES_AGAINST.search(claim.text) else claim.asks()
    if says is None:
        return None
    return (says == "problem") == bool(false)


def _answer_accepts(sentence: str, question: _Said) -> bool | None:
    """Whether an answer accepts what the question asked about; None when it is no answer."""
    if not question.question:
        return _verdict_accepts(sentence, question)
    asks = question.asks()
    if asks is None:
        return None
    if _ONLY_IF.match(sentence):
        return True
    if _NO.match(sentence):
        return asks == "problem"
    if _YES.match(sentence):
        tokens = analyse(sentence)
        if _about_reaction(tokens):
            return None  # "Yes, it's normal to feel confused."
        negated = any(t.lemma == "not" for t in tokens[:6])
        return (asks == "acceptable") != negated
    return None


def _about_reaction(tokens: Sequence[Token]) -> bool:
    for clause in _clauses(tokens):
        at = normalising_predicate(clause)
        if at is not None:
            words = [t for t in clause if not t.punct]
            return _reaction_after(words, words.index(clause[at]))
    return False


# The writer renames what was just described ("I'd call that dedication", "Think of it as a
# way of staying in touch", "I see them as her wanting the best for me"): a reframing in the
# first person or the imperative, with the pointer inside it.
_REFRAME = re.compile(
    r"(?:^\W*|\b(?:i|we)(?:'d|\u2019d| would| just)? )(?:call|consider) (?:it|that|this|them|those)\b|"
    r"\b(?:think of|see|view|regard) (?:it|that|this|them|those|him|her) as\b",
    re.IGNORECASE,
)
# What a reframing renames it as, when that praises: care, trust, a bond, honesty.
_VIRTUES = words("honest honesty dedication loyalty passion way interest concern effort tough love")


def _reframes(sentence: str) -> bool:
    """A first-person or imperative reframing whose new name praises and condemns nothing."""
    found = _REFRAME.search(sentence)
    if found is None:
        return False
    rest = [t for t in analyse(sentence[found.end() :]) if not t.punct]
    if any(t.lemma in _WARN and not t.negated for t in rest):
        return False  # "I'd call that abuse", "see it as a red flag"
    return any(t.lemma in _CARE | _PRAISE | _ACCEPT | _VIRTUES and not t.negated for t in rest)


def _refers_back(sentence: str, tokens: Sequence[Token]) -> bool:
    """A sentence that accepts "this" or "that": a normalising predicate, a pointing subject,
    and no concern or reaction of its own."""
    if _ELLIPTICAL.match(sentence) and len(sentence.split()) <= _SHORT:
        return True
    if _reframes(sentence):
        return True
    idiom = _IDIOMS.search(sentence)
    if idiom and not _condemns(tokens) and not _reported_before(tokens, idiom.start()):
        return True
    if not _POINTS_BACK.match(sentence):
        return False
    for clause in _clauses(tokens):
        at = normalising_predicate(clause)
        if at is None:
            continue
        words = [t for t in clause if not t.punct]
        position = words.index(clause[at])
        if _dummy_it(words, position):
            return False  # "It's normal to develop a crush on ...": "it" points ahead, not back
        reported = any(t.lemma in _REPORTED and not _own_view(words, at) for at, t in enumerate(words[:position]))
        return not (reported or _reaction_after(words, position))
    return False


def _reported_before(tokens: Sequence[Token], offset: int) -> bool:
    """A reporting verb before ``offset`` makes what follows someone's view, not the writer's:
    "I used to think that was a healthy sign", "she says it's a judgment call"."""
    words = [t for t in tokens if not t.punct and t.end <= offset]
    return any(t.lemma in _REPORTED and not _own_view(words, at) for at, t in enumerate(words))


def _dummy_it(words: list[Token], position: int) -> bool:
    following = words[position + 1].lemma if position + 1 < len(words) else ""
    return bool(words) and words[0].lemma == "it" and following in ("to", "for", "that", "if", "when", "how")


def _finding(
    prose: Prose, start: int, sentence: str, match: SignalMatch, path: str, quoted: str, how: str
) -> LintFinding:
    signal = match.signal
    line, column = prose.where(start)
    first_line = sentence.split("\n", 1)[0]
    return LintFinding(
        path,
        line,
        column,
        line,
        column + len(first_line),
        LintLevel.error,
        "statement.normalises-concern",
        f'{how} "{quoted}" acceptable, but it matches the signal {signal.id} '
        f"({signal.label}): rule {signal.rule} is at level {signal.level.value}",
        signal.id,
        signal.rule,
        signal.level,
    )


# "..., he told me": the claim is someone else's, reported at the end of the sentence.
_REPORTED_AFTER = re.compile(
    r",\s*(?:\w+\s+){0,3}?(?:told|tells|said|says|claimed|claims|insisted|insists|argued|argues|swore|"
    r"assured|promised|explained)\b[^,]{0,30}$",
    re.IGNORECASE,
)


def _direct(sentence: str, index: PhraseIndex) -> SignalMatch | None:
    if not (_PREDICATE_HINT.search(sentence) or _IDIOMS.search(sentence)) or _REPORTED_AFTER.search(
        sentence.rstrip(" .!\"'\u201d\u2019")
    ):
        return None
    tokens = analyse(sentence)
    if client_wish(tokens):
        return None
    for clause in _clauses(tokens):
        found = statement_finding(clause, index)
        if found is not None:
            return found[0]
    idiom = _IDIOMS.search(sentence)
    if idiom is None or _condemns(tokens):
        return None
    # "A therapist who sides with one partner has a point": the concern before the idiom.
    said = [t for t in tokens if t.end <= idiom.start()]
    matches = index.match(said)
    concerns = [m for m in matches if m.signal.concern and not m.negated]
    if not concerns or better_normal(matches, concerns):
        return None
    best = strongest(concerns)
    return None if best.signal.level < Level.concern and qualified(tokens) else best


def _condemns(tokens: Sequence[Token]) -> bool:
    """A warning word said outright: "not a red flag" denies one, "a red flag" condemns."""
    return any(t.lemma in _WARN and not t.negated and t.lemma not in ("sign", "deal", "issue") for t in tokens)


def _accepts_before(sentence: str, before: _Said | None, index: PhraseIndex) -> SignalMatch | None:
    """The concern of the sentence before, when this one answers it or refers back to it."""
    if before is None:
        return None
    accepts = _answer_accepts(sentence, before)
    hinted = (
        _PREDICATE_HINT.search(sentence)
        or _IDIOMS.search(sentence)
        or _ELLIPTICAL.match(sentence)
        or _REFRAME.search(sentence)
    )
    if accepts is None and hinted and _refers_back(sentence, analyse(sentence)):
        accepts = True
    # "Weird?" "Take the win.": a short warm reply to a question that asks whether something
    # is a problem or acceptable answers it as "no" or "yes" would; it must be about a
    # concern said firmly, as a verdict in everyday words must.
    replies_warmly = accepts is None and _warm_reply(sentence, before)
    accepts = True if replies_warmly else accepts
    # Or a verdict in everyday words ("Flattering, really.", "There's nothing sinister in
    # that."): the cheap tests first, as most sentences are none of these.
    verdict = not accepts and not before.question and _verdict_shape(sentence, before)
    if not (accepts or verdict):
        return None
    if not before.question and _feels(before.tokens()):
        return None  # "That's normal" accepts the feeling the sentence before named
    concern = before.concern(index)
    if concern is None:
        return None
    if verdict and not _verdict_on(sentence, before, concern, index):
        return None
    if replies_warmly and (concern.score < _FIRM or concern.words < 2 or index.match(analyse(sentence))):
        return None
    if concern.signal.level < Level.concern and qualified(analyse(sentence)):
        return None
    if concern.signal.level < Level.concern and _ONLY_IF.match(sentence) and not _bothers(sentence):
        return None
    return concern


_RUNS_ON = frozenset({"paragraph", "heading"})
_VERDICT_WORDS = 6
_POINTING = re.compile(r"\b(?:this|that|it|these|those|such|which)\b", re.IGNORECASE)


def _warm_reply(sentence: str, before: _Said) -> bool:
    return before.question and len(sentence.split()) <= _VERDICT_WORDS and before.asks() is not None and warm(sentence)


def _verdict_shape(sentence: str, before: _Said) -> bool:
    """Warm, in the paragraph of the sentence before, and short or pointing back at it."""
    if not before.same_paragraph:
        return False
    if len(sentence.split()) > _VERDICT_WORDS and not _POINTING.search(sentence):
        return False
    return warm(sentence) and not _reported_before(analyse(sentence), len(sentence))


def _verdict_on(sentence: str, before: _Said, concern: SignalMatch, index: PhraseIndex) -> bool:
    """About a therapist's concern said in more than a word or two, and naming nothing of its own."""
    if concern.words < 2 or concern.score < _FIRM or not any(t.lemma == "therapist" for t in before.tokens()):
        return False
    return not index.match(analyse(sentence))


_FIRM = 0.85


def _bothers(sentence: str) -> bool:
    """'Only if it bothers you': acceptable unless the client objects, which the rules do not say."""
    return bool(re.search(r"\b(?:bother|upset|worr|trouble|annoy)\w*", sentence, re.IGNORECASE))


def _question(sentence: str) -> bool:
    return sentence.rstrip(" \"'\u201d\u2019)*_").endswith("?")


def check_statements(document: Document, index: PhraseIndex, path: str, skip: set[int]) -> Iterator[LintFinding]:
    """statement.normalises-concern, for every sentence of every prose block.

    ``skip`` holds ``id()`` of prose already reported by the framing check.
    """
    before: _Said | None = None
    warned = False  # the section's heading calls it a warning
    for prose in document.prose:
        text = prose.text
        if prose.kind == "heading":
            warned = frame_of(text) is Frame.warning
        # "What's usual and what isn't": a heading that weighs both ways claims neither.
        weighs = prose.kind == "heading" and frame_of(text) is Frame.undecided
        spans = list(prose.sentences())
        later = _later_condemns(prose, spans)
        told: Told | None = None
        reads_whole = prose.kind == "paragraph" and not warned and id(prose) not in skip and len(spans) > 1
        for position, (start, end) in enumerate(spans):
            sentence = text[start:end]
            question = _question(sentence)
            said = None
            if id(prose) not in skip and not question and not weighs:
                said = _said_finding(prose, spans[position], later[position], before, index, path)
                if said is not None:
                    yield said
            if reads_whole and said is None:
                told, found = _paragraph_step(prose, spans[position], later[position], told, index, path)
                if found is not None:
                    yield found
            elif said is not None:
                told = None
            # A bold question line is read as a heading; its sentences still follow one another.
            before = _Said(sentence, question, before, prose.kind in _RUNS_ON and end < len(text.rstrip()))


def _later_condemns(prose: Prose, spans: list[tuple[int, int]]) -> list[bool]:
    """For each sentence, whether a later one of the paragraph condemns: "I was flattered at
    first. Looking back, it hurt me." takes back what came before. Worked out once, from the
    end, so a long paragraph is not read again for every sentence."""
    later = [False] * len(spans)
    if prose.kind != "paragraph":
        return later
    after = False
    for position in range(len(spans) - 1, -1, -1):
        later[position] = after
        start, end = spans[position]
        after = after or condemns(prose.text[start:end])
    return later


def _said_finding(
    prose: Prose, span: tuple[int, int], taken_back: bool, before: _Said | None, index: PhraseIndex, path: str
) -> LintFinding | None:
    """A sentence that calls a concern acceptable, or accepts the one before it (unless a later
    sentence of the paragraph takes it back)."""
    start, end = span
    sentence = prose.text[start:end]
    found = _direct(sentence, index)
    if found is not None:
        quoted = " ".join(sentence[found.start : found.end].split())
        return _finding(prose, start, sentence, found, path, quoted, "this sentence calls")
    earlier = _accepts_before(sentence, before, index)
    if earlier is None or before is None:
        return None
    if not before.question and taken_back:
        return None
    quoted = " ".join(before.text[earlier.start : earlier.end].split())
    how = "this answer calls" if before.question else "this sentence calls"
    return _finding(prose, start, sentence, earlier, path, quoted, how)


def _paragraph_step(
    prose: Prose, span: tuple[int, int], taken_back: bool, told: Told | None, index: PhraseIndex, path: str
) -> tuple[Told | None, LintFinding | None]:
    """One sentence of a paragraph read whole: it tells a concern, or shrugs off the one told."""
    start, end = span
    sentence = prose.text[start:end]
    if told is not None:
        # "It's okay to feel disappointed": the client's feelings, not the concern.
        if not _feels(analyse(sentence)) and accepts_told(sentence, told, index):
            quoted = " ".join(told.sentence[told.concern.start : told.concern.end].split())
            return None, _finding(prose, start, sentence, told.concern, path, quoted, "this paragraph calls")
        return told, None
    if _question(sentence) or condemns(sentence) or _feels(analyse(sentence)):
        return None, None
    concern = told_in(sentence, index)
    # One condemning or helping sentence after it means the writer is not waving it away.
    if concern is None or taken_back:
        return None, None
    return Told(concern, sentence), None
