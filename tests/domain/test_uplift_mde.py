"""The minimum detectable effect against hand computations."""

from __future__ import annotations

import math

import pytest

from shop.campaigns.uplift import minimum_detectable_effect


def test_mde_is_z_sum_times_the_standard_error_of_the_difference() -> None:
    # var 10,000 (sd 100 baht), 900 vs 100: se = 100 * sqrt(1/900 + 1/100) = 10.5409
    expected = (1.959963984540054 + 0.8416212335729143) * 100 * math.sqrt(1 / 900 + 1 / 100)
    assert minimum_detectable_effect(10_000.0, 900, 100) == pytest.approx(expected)
    assert minimum_detectable_effect(10_000.0, 900, 100) == pytest.approx(29.53, abs=0.01)


def test_mde_is_symmetric_in_the_two_groups() -> None:
    assert minimum_detectable_effect(400.0, 50, 500) == minimum_detectable_effect(400.0, 500, 50)


def test_mde_shrinks_with_the_square_root_of_the_group_sizes() -> None:
    small = minimum_detectable_effect(2_500.0, 100, 100)
    large = minimum_detectable_effect(2_500.0, 400, 400)
    assert large == pytest.approx(small / 2)


@pytest.mark.parametrize(("treated", "control"), [(0, 100), (100, 0), (0, 0)])
def test_mde_is_infinite_when_a_group_is_empty(treated: int, control: int) -> None:
    assert minimum_detectable_effect(100.0, treated, control) == math.inf


def test_mde_is_zero_when_nobody_varies() -> None:
    assert minimum_detectable_effect(0.0, 100, 100) == 0.0
