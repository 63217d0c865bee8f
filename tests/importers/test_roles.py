"""Role resolution: several roles in one scope, the highest rank wins."""

from __future__ import annotations

from operator import itemgetter

import pytest

from importers.roles import highest_ranked


def test_the_highest_rank_wins_wherever_it_stands() -> None:
    roles = [("viewer", 10), ("admin", 80), ("editor", 40)]
    assert highest_ranked(roles, itemgetter(1)) == ("admin", 80)
    assert highest_ranked(list(reversed(roles)), itemgetter(1)) == ("admin", 80)


def test_among_equal_ranks_the_first_given_wins() -> None:
    first, second = ("core", 40), ("portal", 40)
    assert highest_ranked([first, second], itemgetter(1)) is first
    assert highest_ranked([second, first], itemgetter(1)) is second


def test_a_single_role_is_its_own_winner() -> None:
    only = ("owner", 100)
    assert highest_ranked([only], itemgetter(1)) is only


def test_no_role_at_all_is_an_error() -> None:
    with pytest.raises(ValueError):
        highest_ranked([], itemgetter(1))
