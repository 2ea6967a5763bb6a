"""Words as the matcher sees them: tokens, lemmas, synonyms, negation scopes and sentences.

Writers say the same thing many ways ("asks you for a loan", "borrowed $500 from a client"),
so every word is reduced to a canonical lemma: lemminflect gives the dictionary form
(its word lists ship inside the wheel and load offline), and a small synonym table folds
words that mean the same thing here (counsellor -> therapist, lend -> loan). Every token
also records whether it sits in the scope of a negation ("never", "not", "without",
"rather than"), so "your therapist never borrows money" can be told from "your therapist
borrows money".
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

# lemminflect through _lemmas: its answers come from a prebuilt table, lemminflect loads only for other words.
from ._lemmas import all_lemmas, all_lemmas_oov, known_form

__all__ = [
    "NEGATORS",
    "POSSESSIVE",
    "STOP",
    "Token",
    "analyse",
    "base_lemma",
    "clear_caches",
    "lemma",
    "sentences",
    "words",
]


def words(text: str) -> frozenset[str]:
    """A set of words written as one string: word lists read better as prose than as a list."""
    return frozenset(text.split())


# A word (with an inner apostrophe), an amount of money, a number, or one punctuation mark
# that ends a negation's scope. Hyphens split words: "self-harm" is "self" and "harm".
_TOKEN = re.compile(
    r"\$\s?\d[\d,.]*|\d{1,2}(?::\d\d)?\s?(?:[ap]\.m\.|[ap]m\b)|[A-Za-z]+(?:['\u2019][A-Za-z]+)*|\d+|"
    r"[.,;:!?()\[\]\"\u201c\u201d\u2014\u2013]|(?<=\s)-(?=\s)",
    re.IGNORECASE,
)
# A clock time is "night" from 9 pm to 4 am ("DMs you at 1am"), else only a time.
_CLOCK = re.compile(r"(\d{1,2})(?::\d\d)?\s?([ap])", re.IGNORECASE)
_NOT_SUFFIX = {
    "don": "do",
    "doesn": "do",
    "didn": "do",
    "isn": "be",
    "aren": "be",
    "wasn": "be",
    "weren": "be",
    "ain": "be",
    "can": "can",
    "couldn": "can",
    "won": "will",
    "wouldn": "will",
    "shouldn": "should",
    "mustn": "must",
    "hasn": "have",
    "haven": "have",
    "hadn": "have",
    "needn": "need",
    "mightn": "may",
    "shan": "shall",
}

POSSESSIVE = "'s"
"""The token of a possessive ending: "your therapist's place" is a place, not the therapist acting."""
_CONTRACTED = {"s": "is", "re": "are", "m": "am", "ve": "have", "ll": "will", "d": "would"}
_IS_BEFORE_S = frozenset({"it", "that", "there", "what", "here", "who", "he", "she", "this", "everything", "nothing"})

# Words that start a negation scope. Verbs like "avoid" and "prevent" negate what follows
# just as "not" does: "good therapists avoid dual relationships".
NEGATORS = frozenset(
    {
        "not",
        "no",
        "never",
        "without",
        "nobody",
        "nothing",
        "none",
        "neither",
        "nor",
        "cannot",
        "avoid",
        "prevent",
        "refuse",
        "decline",
        "forbid",
        "prohibit",
        "instead",
        "rather",
    }
)
# "not only", "no doubt": not negations; nor "no lie", "no joke", "no cap" (slang for the
# same), which vouch for what they follow ("Green flags, no cap").
_NOT_NEGATION_AFTER = {
    "not": {"only", "just", "merely"},
    "no": {"doubt", "matter", "lie", "joke", "kidding", "cap"},
}
# Words that close a negation's scope: a clause boundary.
_SCOPE_BREAK = frozenset(
    {
        "but",
        "and",
        "although",
        "though",
        "however",
        "because",
        "since",
        "so",
        "while",
        "whereas",
        "unless",
        "until",
        "if",
        "when",
        "whenever",
        "which",
        "who",
        "yet",
        "then",
    }
)
_FINITE_BE = frozenset({"is", "are", "was", "were"})
_PUNCT_BREAK = frozenset('.,;:!?()[]"\u201c\u201d\u2014\u2013-')
# Evaluation words end a scope: in "never okay for a therapist to ask for money" the
# negation belongs to "okay", not to the asking.
EVALUATIVE = frozenset(
    {
        "okay",
        "fine",
        "normal",
        "acceptable",
        "appropriate",
        "alright",
        "healthy",
        "harmless",
        "natural",
        "common",
        "ethical",
        "professional",
        "allow",
        "wrong",
        "problem",
        "worry",
        "concern",
        "flag",
        "deal",
        "unusual",
        "inappropriate",
        "unethical",
    }
)
_SCOPE_WORDS = 6

# Function words carry no meaning for matching. Negators are kept as markers, not content.
STOP = words(
    """
        a an the this that these those there here some any each every all both either other another such i
        me my mine you your yours he him his she her hers it its
        itself we us our ours they them their theirs one someone somebody something
        anything everything everyone everybody be have do will would shall should can could may might must
        ought get make go come seem become let of in on at by for with about to from into onto upon over
        under up down off out as than through during before after above below again further once per via and
        or but if when while because so which who whom whose what where how why whether very really just
        also even still too quite rather more most much many lot lots often sometimes always usually
        constantly repeatedly ever already almost thing way kind sort bit s t d ll re ve m
        """
)

# Words that mean the same thing for our purpose fold to one lemma. Keys are lemmas.
_SYNONYMS = {
    # people
    "counselor": "therapist",
    "counsellor": "therapist",
    "counsel": "therapist",
    "psychologist": "therapist",
    "psychotherapist": "therapist",
    "psychiatrist": "therapist",
    "clinician": "therapist",
    "practitioner": "therapist",
    "provider": "therapist",
    "analyst": "therapist",
    "shrink": "therapist",
    "patient": "client",
    "vitamin": "supplement",
    "solo": "individual",
    "confide": "share",
    "mum": "mom",
    "mommy": "mom",
    "mummy": "mom",
    "manager": "boss",
    "employer": "boss",
    "supervisor": "boss",
    "spouse": "partner",
    "husband": "partner",
    "wife": "partner",
    "boyfriend": "partner",
    "girlfriend": "partner",
    "ex": "former",
    "previous": "former",
    # money and business
    "lend": "loan",
    "borrow": "loan",
    "cash": "money",
    "fund": "money",
    "dollar": "money",
    "invest": "business",
    "investment": "business",
    "venture": "business",
    "hire": "job",
    "employ": "job",
    "employment": "job",
    "price": "fee",
    "cost": "fee",
    "charge": "fee",
    "payment": "fee",
    "pay": "fee",
    "bill": "fee",
    "trade": "barter",
    "exchange": "barter",
    # touch and sex
    "embrace": "hug",
    "cuddle": "hug",
    "sexual": "sex",
    "sexually": "sex",
    "intercourse": "sex",
    "intimate": "sex",
    "intimacy": "sex",
    "romantic": "romance",
    "romantically": "romance",
    "affair": "romance",
    "date": "romance",
    "flirtatious": "flirt",
    "seductive": "flirt",
    "grope": "sex",
    "fondle": "sex",
    # contact
    "text": "message",
    "call": "message",
    "phone": "message",
    "email": "message",
    "dm": "message",
    "whatsapp": "message",
    "chat": "message",
    "facebook": "socialmedia",
    "instagram": "socialmedia",
    "twitter": "socialmedia",
    "tiktok": "socialmedia",
    "snapchat": "socialmedia",
    "linkedin": "socialmedia",
    "media": "socialmedia",
    "jewelry": "expensive",
    "jewellery": "expensive",
    "costly": "expensive",
    "lavish": "expensive",
    "valuable": "expensive",
    # secrecy, threats
    "secrecy": "secret",
    "secretly": "secret",
    "hide": "secret",
    "hidden": "secret",
    "threat": "threaten",
    "blackmail": "threaten",
    "intimidate": "threaten",
    "retaliate": "punish",
    "retaliation": "punish",
    "punishment": "punish",
    "penalise": "punish",
    "penalize": "punish",
    # intoxication
    "drunk": "intoxicate",
    "intoxicated": "intoxicate",
    "tipsy": "intoxicate",
    "alcohol": "intoxicate",
    "booze": "intoxicate",
    # A beer or a glass of wine offered is a drink, an invitation more often than intoxication.
    "wine": "drink",
    "beer": "drink",
    "pint": "drink",
    "cocktail": "drink",
    "drug": "intoxicate",
    "stoned": "intoxicate",
    "hungover": "intoxicate",
    # harm
    "suicidal": "suicide",
    "die": "suicide",
    "kill": "suicide",
    "violence": "violent",
    "abuse": "violent",
    "abusive": "violent",
    "beat": "violent",
    "hit": "violent",
    "assault": "violent",
    "afraid": "fear",
    "scare": "fear",
    "frighten": "fear",
    "terrify": "fear",
    # dependency
    "dissuade": "discourage",
    "decision": "decide",
    "choice": "decide",
    "choose": "decide",
    "ghost": "abandon",
    "vanish": "abandon",
    "disappear": "abandon",
    "quit": "end",
    "stop": "end",
    "terminate": "end",
    "termination": "end",
    "finish": "end",
    "leave": "end",
    "ending": "end",
    "rely": "depend",
    "reliant": "depend",
    "reliance": "depend",
    "dependent": "depend",
    "dependency": "depend",
    "dependence": "depend",
    # everyday
    "criticise": "judge",
    "criticize": "judge",
    "critical": "judge",
    "judgment": "judge",
    "judgement": "judge",
    "judgmental": "judge",
    "judgemental": "judge",
    "misread": "misunderstand",
    "misunderstanding": "misunderstand",
    "confusion": "confuse",
    "confusing": "confuse",
    "confused": "confuse",
    "hurry": "rush",
    "awkward": "uncomfortable",
    "discomfort": "uncomfortable",
    "uneasy": "unease",
    "tense": "unease",
    "guarded": "unease",
    # speech
    "tell": "say",
    "claim": "say",
    "insist": "say",
    "mention": "say",
    "disclose": "share",
    "disclosure": "share",
    "reveal": "share",
    "religious": "religion",
    "faith": "religion",
    "belief": "religion",
    "spiritual": "religion",
    "church": "religion",
    "god": "religion",
    "racist": "slur",
    "racism": "slur",
    "sexist": "slur",
    "homophobic": "slur",
    "transphobic": "slur",
    "derogatory": "slur",
    "mock": "slur",
    "demean": "slur",
    "demeaning": "slur",
    "insult": "slur",
    "belittle": "slur",
    "appointment": "session",
    # "hurt yourself" is self-harm, "hurt by that" is not: the reflexive is the "self" of "self-harm".
    "yourself": "self",
    "myself": "self",
    "themselves": "self",
    "themself": "self",
    "himself": "self",
    "herself": "self",
    "ourselves": "self",
    "yourselves": "self",
    # clothes: "says your skirt distracts him" is a remark on what you wear, like "your outfit"
    "outfit": "clothes",
    "clothing": "clothes",
    "clothe": "clothes",
    "skirt": "clothes",
    "jeans": "clothes",
    "shirt": "clothes",
    "blouse": "clothes",
    "dress": "clothes",
    "attire": "clothes",
    "barbecue": "party",
    "bbq": "party",
    "cookout": "party",
    "picnic": "party",
    "gathering": "party",
    "midnight": "night",
    "dms": "message",
    "voicemail": "message",
    "facetime": "message",
    "emoji": "message",
    "meme": "message",
    # places and occasions of a social life: a drink at the pub, a christening
    "pub": "drink",
    "wed": "party",
    "christen": "party",
    "baptism": "party",
    "graduation": "party",
    "housewarm": "party",
    "birthday": "party",
    "dmed": "message",
    "dming": "message",
    "overnight": "night",
    "ok": "okay",
    "alright": "okay",
}

_LEADING = {"VERB", "NOUN", "ADJ", "ADV"}


# No English word is longer; a longer "word" is left as it is, and kept out of the caches
# below, which would otherwise hold up to 65,536 strings of any length for the process's life.
_LONGEST_WORD = 40
# Texts longer than this are analysed afresh each time: a real sentence is shorter, and the
# cache then holds at most 8,192 short texts (some 70 MB at worst, a few MB in practice).
_CACHED_TEXT = 400


def lemma(word: str) -> str:
    """The canonical lemma of one lower-case word: dictionary form, then synonyms."""
    return word if len(word) > _LONGEST_WORD else _lemma(word)


def base_lemma(word: str) -> str:
    """The dictionary form of one lower-case word, without synonyms ("patients" -> "patient")."""
    return word if len(word) > _LONGEST_WORD else _base_lemma(word)


@lru_cache(maxsize=65536)
def _lemma(word: str) -> str:
    form = _dictionary_form(word)
    form = _dictionary_form(form)  # "feelings" -> "feeling" -> "feel": the same as "feeling"
    return _SYNONYMS.get(form, form)


@lru_cache(maxsize=65536)
def _base_lemma(word: str) -> str:
    return _dictionary_form(_dictionary_form(word))


def clear_caches() -> None:
    """Forget every analysed text and lemma (for measuring a cold start)."""
    for cached in (_lemma, _base_lemma, _analysed):
        cached.cache_clear()


# Words whose most common reading here is not lemminflect's first choice.
_OVERRIDES = {"drunk": "drunk", "presents": "present", "hugs": "hug", "texts": "text", "kisses": "kiss"}


def _dictionary_form(word: str) -> str:
    if not word.isalpha():
        return word
    if word in _OVERRIDES:
        return _OVERRIDES[word]
    known = known_form(word)  # this function's answer, computed ahead of time (lint/_lemmas.py)
    if known is not None:
        return known
    found = all_lemmas(word)
    verb = found.get("VERB")
    if verb and verb[0] != word:
        return verb[0]
    for pos in ("NOUN", "ADJ", "ADV", "VERB", "AUX"):
        forms = found.get(pos)
        if forms:
            return forms[0]
    if len(word) > 4 and word.endswith(("ing", "ed", "s")):
        guess = all_lemmas_oov(word, upos="VERB")
        forms = guess.get("VERB")
        if forms:
            return forms[0]
    return word


@dataclass(frozen=True, slots=True)
class Token:
    """One word of a text: its lemma, where it is, and whether a negation covers it."""

    lemma: str
    start: int
    end: int
    negated: bool
    content: bool  # False for function words, negators and punctuation

    @property
    def punct(self) -> bool:
        return not self.lemma[:1].isalnum() and not self.lemma.startswith("$")


def _at_night(hour: int, half: str) -> bool:
    hour = hour % 12 + (12 if half == "p" else 0)
    return hour >= 21 or hour <= 4


def _raw_tokens(text: str) -> Iterator[tuple[str, int, int]]:
    for match in _TOKEN.finditer(text):
        word = match.group()
        start, end = match.span()
        if word.startswith("$"):
            yield "money", start, end
            continue
        if word[0].isdigit():
            clock = _CLOCK.match(word)
            if clock:
                yield ("night" if _at_night(int(clock.group(1)), clock.group(2).lower()) else "time"), start, end
                continue
        lower = word.lower().replace("\u2019", "'")
        if "'" in lower:
            base, _, suffix = lower.partition("'")
            if suffix == "t" and base in _NOT_SUFFIX:
                yield _NOT_SUFFIX[base], start, start + len(base)
                yield "not", start + len(base), end
                continue
            if base.endswith("n") and suffix == "t":  # an unknown n't form
                yield base[:-1], start, start + len(base) - 1
                yield "not", start + len(base) - 1, end
                continue
            yield base, start, start + len(base)
            # "it's fine": the verb matters to whoever looks for "is fine"; "therapist's" is possessive.
            verb = _CONTRACTED.get(suffix) if suffix != "s" or base in _IS_BEFORE_S else None
            if verb:
                yield verb, start + len(base), end
            elif suffix == "s":
                yield POSSESSIVE, start + len(base), end
            continue
        yield lower, start, end


def analyse(text: str) -> tuple[Token, ...]:
    """Tokens of ``text`` with lemmas and negation scopes; offsets index into ``text``.

    Cached for short texts: the checks analyse the same sentences, and articles repeat phrases.
    """
    return tuple(_analyse(text)) if len(text) > _CACHED_TEXT else _analysed(text)


@lru_cache(maxsize=8192)
def _analysed(text: str) -> tuple[Token, ...]:
    return tuple(_analyse(text))


# "Invested in your progress" is care, not money: "invest" means business only when what
# follows "in" is something that can take money.
_INVESTABLE = words(
    """
        business businesses company companies startup scheme schemes share shares stock stocks crypto
        property venture fund idea plan product products practice firm project opportunity app
        """
)
_DETERMINERS = words("a an the their his her my your our its new own side small")


# "The business side of therapy" is running a practice, not a deal with a client.
_BUSINESS_SENSE = words("side end aspect part hour hours card model license licence office owner skill skills plan")


def _business_of_practice(raw: list[tuple[str, int, int]], index: int) -> bool:
    return raw[index][0] == "business" and index + 1 < len(raw) and raw[index + 1][0] in _BUSINESS_SENSE


def _invested_in_care(raw: list[tuple[str, int, int]], index: int) -> bool:
    if raw[index][0] not in ("invested", "invest", "invests", "investing"):
        return False
    if index + 1 >= len(raw) or raw[index + 1][0] != "in":
        return False
    following = [w for w, _, _ in raw[index + 2 : index + 6] if w not in _DETERMINERS]
    return not following or following[0] not in _INVESTABLE


_DOING = words("at do does doing did on in")
_RECORD_OWNERS = words("your my the their his her client clients therapy medical session sessions case health our")
_THE = words("the their his her its your my")
_ONE_DAY = words("the that this same next previous following")


def _sense(raw: list[tuple[str, int, int]], index: int) -> str | None:
    """Another sense than the usual lemma's, told by the words around it.

    "Good at the job" is the profession, not a job offer; "put it in writing" documents, it
    does not write about anyone; "sleeping with" is sex, "invested in your progress" care.
    """
    word = raw[index][0]
    before = raw[index - 1][0] if index else ""
    two_before = raw[index - 2][0] if index > 1 else ""
    if word in ("job", "jobs") and before in _THE and two_before in _DOING:
        return "role"
    if word == "writing" and before == "in":
        return "document"
    # "your records" are files; "record a session" is recording.
    if word in ("record", "records") and before in _RECORD_OWNERS:
        return "file"
    following = raw[index + 1][0] if index + 1 < len(raw) else ""
    if word in ("other", "another") and following and lemma(following) == "client":
        return "other"  # "other clients" are someone else's confidences, not just any clients
    if word in ("scare", "scares") and before in ("health", "cancer", "pregnancy", "medical"):
        return "illness"  # a health scare is no fear of anyone
    if word in ("fall", "falls", "fell", "fallen", "falling") and following == "for":
        return "love"  # "she has fallen for you"; "fall apart" is no feeling for anyone
    if word in ("evening", "evenings"):
        return "evening"  # the time of day; the lemmatiser's guess is the verb "even"
    if word == "day" and before == "any":
        return "any-day"  # "beats a phone call any day" is a preference, not how often
    if word == "day" and before in _ONE_DAY:
        return "calendar-day"  # "the day before your appointment" is when, not "every day": how often
    if _sleeps_with(raw, index):
        return "sex"
    return _contact_sense(word, before, following) or _other_sense(raw, index)


_PERSONS = words("me you him her us them")
_BETTER_THAN = words("it that this nothing which")


# "It touched something important", "we touched on it", "a touching letter": a touch of
# the mind. A touch that lands on someone takes a person or a body as its object.
_TOUCHED_ON = words("on upon base something anything nothing everything a nerve")
_MOVING = words("a so very really such quite most truly")


def _contact_sense(word: str, before: str, following: str) -> str | None:
    """Words of keeping in contact: "staying in touch" is no touch, "voice notes" and "she
    rings me" are messages."""
    if word == "touch" and before == "in":
        return "contact"
    if word in ("touch", "touches", "touched", "touching") and following in _TOUCHED_ON:
        return "moved"
    if word == "touching" and before in _MOVING:
        return "moved"
    if word in ("note", "notes") and before == "voice":
        return "message"
    if word in ("ring", "rings", "rang", "ringing") and following in _PERSONS:
        return "message"
    return None


_FAMILY_OCCASIONS = words(
    "holiday holidays dinner dinners gathering gatherings reunion reunions event events trip trips vacation "
    "vacations celebration celebrations wedding weddings photo photos party parties christmas thanksgiving"
)
_BEATEN = words(
    "me you him her us them my your his their our client clients child children kid kids wife husband partner up"
)
_PASSIVE = words("be is are was were been being get got gets")
_SMALL_HOURS = words("one two three four five 1 2 3 4 5")


def _beat_sense(before: str, following: str) -> str | None:
    if lemma(following) == "self":
        return "self-blame"
    if following in _BEATEN or before in _PASSIVE:
        return None
    return "prefer"


def _other_sense(raw: list[tuple[str, int, int]], index: int) -> str | None:
    word = raw[index][0]
    before = raw[index - 1][0] if index else ""
    following = raw[index + 1][0] if index + 1 < len(raw) else ""
    # "It beats a stiff email" prefers; "don't beat yourself up" blames yourself: a beating
    # lands on someone ("beat her", "beat me up", "was beaten").
    if word in ("beat", "beats", "beating"):
        return _beat_sense(before, following)
    # "Follows her clients on Instagram" is social media, not following someone home.
    if word in ("follow", "follows", "followed", "following") and any(
        lemma(w) == "socialmedia" for w, _, _ in raw[index + 1 : index + 8]
    ):
        return "socialmedia"
    # "Family holidays" are an occasion, not the family as someone told something.
    if word in ("family", "families") and following in _FAMILY_OCCASIONS:
        return "occasion"
    # "The following week" is the next one; "she followed up" checks in; neither follows anyone.
    if word == "following" and before == "the":
        return "next"
    if word in ("follow", "follows", "followed", "following") and following in ("up", "through", "along"):
        return "follow-up"
    # "Two in the morning" is the middle of the night, as "2am" is.
    if word == "morning" and before == "the" and index > 2 and raw[index - 2][0] == "in":
        return "night" if raw[index - 3][0] in _SMALL_HOURS else None
    if _business_of_practice(raw, index):
        return "practice"
    if _invested_in_care(raw, index):
        return "invested"
    return None


def _sleeps_with(raw: list[tuple[str, int, int]], index: int) -> bool:
    """'Sleeping with your therapist' is sex; 'how you are sleeping' is sleep."""
    word = raw[index][0]
    following = raw[index + 1][0] if index + 1 < len(raw) else ""
    return word in ("sleep", "sleeps", "sleeping", "slept") and following in ("with", "together")


def _prefixed_non(text: str, raw: list[tuple[str, int, int]], index: int) -> bool:
    """'non-sexual': a prefix that negates the one word it is joined to."""
    word, _, end = raw[index]
    return word == "non" and index + 1 < len(raw) and text[end : end + 1] == "-" and raw[index + 1][1] == end + 1


def _analyse(text: str) -> list[Token]:
    tokens: list[Token] = []
    scope = 0  # words left in the current negation scope
    raw = list(_raw_tokens(text))
    joined = False
    scoped_by = ""
    for index, (word, start, end) in enumerate(raw):
        if word == POSSESSIVE:
            tokens.append(Token(word, start, end, False, False))
            continue
        if _prefixed_non(text, raw, index):
            joined = True
            continue
        if joined:
            # "non-sexual" is another word than "sexual", not its negation: "non-sexual touch"
            # is still touch.
            joined = False
            tokens.append(Token("non" + lemma(word), start - 4, end, scope > 0, True))
            if scope:
                scope -= 1
            continue
        sense = _sense(raw, index)
        if sense is not None:
            tokens.append(Token(sense, start, end, scope > 0, True))
            if scope:
                scope -= 1
            continue
        if word == "turn" and index + 1 < len(raw) and raw[index + 1][0] == "down":
            # "turns down a present": declining, a negation of what follows like "refuse"
            tokens.append(Token("not", start, end, scope > 0, False))
            scope = _SCOPE_WORDS
            scoped_by = "refuse"
            continue
        if word in _PUNCT_BREAK or (len(word) == 1 and not word.isalnum()):
            scope = 0
            tokens.append(Token(word, start, end, False, False))
            continue
        if word in _SCOPE_BREAK or (scope and word in _FINITE_BE and scoped_by == "no"):
            # "no other counselor *is* simply protecting ...": a negated subject ends at its verb
            # ("nothing is wrong" is another matter: the denial is the claim). The verb keeps
            # its lemma: "is simply protecting" is "be simply ...", a minimising predicate.
            scope = 0
            tokens.append(Token(lemma(word), start, end, False, False))
            continue
        form = lemma(word)
        if word in NEGATORS or form in NEGATORS:
            following = raw[index + 1][0] if index + 1 < len(raw) else ""
            if following in _NOT_NEGATION_AFTER.get(word, ()):
                tokens.append(Token(form, start, end, False, False))
                continue
            if word == "rather" and following != "than":
                tokens.append(Token(form, start, end, False, False))
                continue
            if word == "instead" and following != "of":
                tokens.append(Token(form, start, end, False, False))
                continue
            tokens.append(Token("not", start, end, scope > 0, False))
            scope = _SCOPE_WORDS
            scoped_by = word
            continue
        negated = scope > 0
        if scope:
            scope -= 1
        content = form not in STOP and word not in STOP
        tokens.append(Token(form, start, end, negated, content))
        if negated and form in EVALUATIVE:
            scope = 0
    return tokens


_ABBREVIATIONS = frozenset({"dr", "mr", "mrs", "ms", "st", "vs", "etc", "e.g", "i.e", "eg", "ie", "prof", "approx"})
# A run of marks is tried at its first mark only: a try from inside the run reaches the same
# end and fails the same way, and "." * 25,000 cost 22 s trying each one.
_SENTENCE_END = re.compile(r"(?:(?<![.!?])[.!?]++[\"'\u201d\u2019)\]]*+|:)(?=\s|$)|\n\s*\n")


def sentences(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) spans of the sentences of a paragraph; a colon before a line break ends one too."""
    start = 0
    length = len(text)
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        mark = match.group()
        if mark == ":" and not _line_ends_after(text, end):
            continue
        if mark.startswith(".") and len(mark) == 1:
            word = _word_before(text, match.start())
            if word.lower() in _ABBREVIATIONS or (_initial(text, match.start(), word)):
                continue
        if text[start:end].strip():
            yield _trim(text, start, end)
        start = end
    if start < length and text[start:].strip():
        yield _trim(text, start, length)


def _initial(text: str, offset: int, word: str) -> bool:
    """A one-letter word before a full stop is an initial ("J. Smith"), unless an apostrophe
    joins it to the word before: the "t" of "won't." ends a sentence."""
    before = offset - len(word) - 1
    return len(word) == 1 and word.isalpha() and not (before >= 0 and text[before] in "'\u2019")


def _line_ends_after(text: str, offset: int) -> bool:
    rest = text[offset : offset + 200]
    return rest.strip(" \t") == "" or rest.lstrip(" \t").startswith("\n")


def _word_before(text: str, offset: int) -> str:
    begin = offset
    while begin > 0 and (text[begin - 1].isalpha() or text[begin - 1] == "."):
        begin -= 1
    return text[begin:offset]


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def line_starts(text: str) -> list[int]:
    """Offsets at which each line of ``text`` starts (for offset -> line, column)."""
    starts = [0]
    found = text.find("\n")
    while found != -1:
        starts.append(found + 1)
        found = text.find("\n", found + 1)
    return starts


def position(starts: list[int], offset: int) -> tuple[int, int]:
    """0-based (line, column) of an offset, given :func:`line_starts`."""
    line = bisect_right(starts, offset) - 1
    return line, offset - starts[line]
