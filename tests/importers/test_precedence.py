"""Field precedence: which value wins when a further legacy row meets an existing object."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from importers.load.engine import Precedence, field_precedence

EARLY = datetime(2019, 1, 1, tzinfo=UTC)
LATE = datetime(2021, 1, 1, tzinfo=UTC)


def test_fill_takes_a_value_where_the_object_has_none() -> None:
    assert field_precedence("fill", "", "ACME GmbH", overwrite=False) is Precedence.TAKE
    assert field_precedence("fill", None, "DE", overwrite=False) is Precedence.TAKE


def test_fill_keeps_the_first_value_and_reports_a_different_one() -> None:
    assert field_precedence("fill", "ACME", "Acme Ltd", overwrite=False) is Precedence.CONFLICT


def test_fill_never_empties_a_field() -> None:
    assert field_precedence("fill", "ACME", "", overwrite=False) is Precedence.KEEP
    assert field_precedence("fill", "ACME", None, overwrite=False) is Precedence.KEEP


def test_quiet_fills_like_fill_without_a_conflict() -> None:
    assert field_precedence("quiet", "", "/1/", overwrite=False) is Precedence.TAKE
    assert field_precedence("quiet", "/1/", "/2/", overwrite=False) is Precedence.KEEP


def test_keep_never_changes_the_value() -> None:
    assert field_precedence("keep", "a@example.test", "b@example.test",
                            overwrite=False) is Precedence.KEEP
    assert field_precedence("keep", "", "b@example.test", overwrite=False) is Precedence.KEEP


def test_set_always_takes_the_row_value_even_an_empty_one() -> None:
    assert field_precedence("set", True, False, overwrite=False) is Precedence.TAKE
    assert field_precedence("set", "sub-1", None, overwrite=False) is Precedence.TAKE


@pytest.mark.parametrize(("current", "value", "expected"), [
    (LATE, EARLY, Precedence.TAKE),
    (EARLY, LATE, Precedence.KEEP),
    (None, EARLY, Precedence.TAKE),
    (EARLY, None, Precedence.KEEP),
])
def test_min_keeps_the_earliest_date(current, value, expected) -> None:
    assert field_precedence("min", current, value, overwrite=False) is expected


def test_a_changed_origin_row_overwrites_every_rule() -> None:
    for rule in ("fill", "quiet", "keep", "min"):
        assert field_precedence(rule, LATE if rule == "min" else "old",
                                LATE.replace(year=2022) if rule == "min" else "new",
                                overwrite=True) is Precedence.TAKE


def test_an_equal_value_is_never_a_change() -> None:
    for rule in ("fill", "quiet", "keep", "set", "min"):
        assert field_precedence(rule, "same", "same", overwrite=True) is Precedence.KEEP


def test_an_unknown_rule_name_behaves_as_quiet_fill() -> None:
    assert field_precedence("other", "", "x", overwrite=False) is Precedence.TAKE
    assert field_precedence("other", "y", "x", overwrite=False) is Precedence.KEEP
