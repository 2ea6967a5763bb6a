"""Who does what to whom: the signals are about a therapist, and about what the therapist does.

Two readings a bag of words gets wrong:

- **Someone else.** "It's fine to borrow money from friends" shares every word with "your
  therapist borrows money" but the therapist is not in it. A text that names another person
  (a friend, a parent, a partner) and no therapist is not about the therapist, unless the
  signal itself is about that person ("your partner hits you").
- **The client's wish.** "Wanting a hug from your therapist is normal" is about a feeling of
  the client's, which the guide calls part of therapy; the therapist has done nothing. A
  desire word whose subject is not the therapist, with the therapist after it, makes the
  text about the client's inner life.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from ._text import POSSESSIVE, Token, words

__all__ = ["THIRD_PARTIES", "about_someone_else", "client_wish", "therapist_roles"]

THIRD_PARTIES = words(
    """
        friend family relative parent mother father mom mum dad sibling brother sister coworker colleague
        boss neighbour neighbor bank roommate flatmate classmate teacher stranger kid child son daughter
        cousin aunt uncle grandparent grandmother grandfather partner acquaintance landlord employer
        """
)
_THERAPIST = "therapist"
_DESIRES = words("want wish long crave hope fantasize fantasise dream imagine yearn desire tempt miss")


def about_someone_else(lemmas: Collection[str], phrasing: Collection[str]) -> bool:
    """The text names another person the phrasing does not, and no therapist."""
    if _THERAPIST in lemmas:
        return False
    named = THIRD_PARTIES.intersection(lemmas)
    return bool(named) and not named.intersection(phrasing)


_BREAKS = words("and but because so when if while although though or then")
_REACH = 8


def client_wish(tokens: Sequence[Token]) -> bool:
    """A desire of the client's governs the text: "wanting a hug from your therapist".

    The desire word is not negated, no therapist comes before it (the therapist wanting
    something is no wish of the client's), and the therapist follows within its clause.
    """
    for index, token in enumerate(tokens):
        if token.lemma == _THERAPIST:
            return False
        if token.lemma in _DESIRES and not token.negated:
            for following in tokens[index + 1 : index + 1 + _REACH]:
                if following.punct or following.lemma in _BREAKS:
                    return False
                if following.lemma == _THERAPIST:
                    return True
            return False
    return False


# A therapist after one of these receives the act ("a crush on your therapist", "a gift to
# your therapist"), as after a verb ("inviting your therapist", "follow your therapist's
# page"); at the start of a clause, or after "from" and "by", the therapist acts ("your
# therapist has a crush on you", "a gift from your therapist").
_RECEIVES = words("on to for toward towards about at into over")
_ACTS = words("from by who that when if while and but or because so")
# Verbs that take the therapist as their object ("inviting your therapist", "text your therapist").
_TRANSITIVE = words(
    """
        follow invite message pay loan give thank visit romance contact friend add meet stalk google search
        hug kiss sex touch gift lend tip bring buy
        """
)
_DETERMINERS = words(
    """
        a an the my your our their his her its former new old own current previous couples couple family
        marriage sex individual trauma art child school grief addiction online
        """
)


def therapist_roles(tokens: Sequence[Token]) -> list[str | None]:
    """For each content token, "object" or "subject" where it is the therapist, else None."""
    roles: list[str | None] = []
    previous: Token | None = None
    for index, token in enumerate(tokens):
        if token.content:
            following = tokens[index + 1].lemma if index + 1 < len(tokens) else ""
            # "your therapist's place": a possessive neither acts nor receives.
            therapist = token.lemma == _THERAPIST and following != POSSESSIVE
            roles.append(_role(previous, following) if therapist else None)
        if token.lemma not in _DETERMINERS:
            previous = token
    return roles


def _role(previous: Token | None, following: str) -> str:
    if previous is None or previous.punct or previous.lemma in _ACTS:
        return "subject"
    if previous.lemma == "for" and following == "to":
        return "subject"  # "normal for your therapist to text you"
    if previous.lemma in _RECEIVES or previous.lemma in _TRANSITIVE:
        return "object"
    return "subject"
