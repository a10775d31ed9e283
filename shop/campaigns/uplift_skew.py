"""The skewness correction of the revenue-uplift interval (``shop.campaigns.uplift``).

Revenue per member is skewed: most members spend little or nothing, a few spend a lot. In a
small group the sample mean and the sample variance then rise and fall together — a hold-out
that by chance holds none of the rare big spenders has both a low mean and a low variance — so
a symmetric interval around the difference misses on one side far more often than on the
other, and too often overall when the hold-out is small. The correction uses the groups' third
moments (of the regression residuals, computable from SQL sums of cubes and cross-products)
and widens the interval on the side the skewness points to, narrowing the other.

The method: Hall's (1992) monotone transformation of the studentised difference ``T``,
``g(T) = T + γT²/3 + γ²T³/27 + γ/6``, which removes the skewness ``γ`` of ``T`` to second
order (the Edgeworth term of a studentised mean; for a difference of two independent means
studentised by their separate variances the term has the same form, with ``γ`` the skewness
of the difference: ``(μ₃ᵗ/nₜ² − μ₃ᶜ/n꜀²) / se³``). The interval holds the effects for which
``|g(T)|`` is at most the quantile; ``g`` is increasing, so it inverts in closed form.

``/stats`` takes the symmetric interval widened on the skewed side only
(:func:`widened_bounds`): Hall's interval alone also narrows the other side, which the
calibration grid showed to call zero effects real more often.
"""

from __future__ import annotations

import math


def central_third(
    n: int,
    sums: tuple[float, float, float, float, float],
    cubes: tuple[float, float, float, float],
) -> float:
    """``Σeᵢ³`` over a group of ``n`` members, ``e`` the residual of the least-squares line of
    ``y`` on ``x`` within the group (``y``'s deviation from its mean when ``x`` does not vary),
    from the sums ``(Σy, Σy², Σx, Σx², Σxy)`` and ``cubes = (Σy³, Σy²x, Σyx², Σx³)``."""
    if n < 1:
        return 0.0
    y, yy, x, xx, xy = sums
    yyy, yyx, yxx, xxx = cubes
    my, mx = y / n, x / n
    sxx = xx - x * x / n
    # the same floor as ``uplift.fit_at``: rounding leaves a constant x a hair away from 0
    slope = (xy - x * y / n) / sxx if sxx > 1e-12 * max(xx, 1.0) else 0.0
    # Σ(y−ȳ)³, Σ(y−ȳ)²(x−x̄), Σ(y−ȳ)(x−x̄)², Σ(x−x̄)³ from the raw sums
    c_yyy = yyy - 3 * my * yy + 3 * my * my * y - n * my**3
    c_yyx = yyx - mx * yy - 2 * my * xy + 2 * my * mx * y + my * my * x - n * my * my * mx
    c_yxx = yxx - my * xx - 2 * mx * xy + 2 * mx * my * x + mx * mx * y - n * mx * mx * my
    c_xxx = xxx - 3 * mx * xx + 3 * mx * mx * x - n * mx**3
    return c_yyy - 3 * slope * c_yyx + 3 * slope**2 * c_yxx - slope**3 * c_xxx


def hall_inverse(skew: float, q: float) -> float:
    """The ``t`` at which Hall's ``g(t) = t + γt²/3 + γ²t³/27 + γ/6`` equals ``q``
    (``γ = skew``): ``g(t) = ((1 + γt/3)³ − 1)/γ + γ/6``, so ``t = 3((1 + γ(q − γ/6))^⅓ − 1)/γ``."""
    if skew == 0:
        return q
    u = skew * (q - skew / 6)
    # expm1/log1p keep the digits when γ is tiny; the real cube root beyond −1
    root = math.expm1(math.log1p(u) / 3) if u > -1 else math.cbrt(1 + u) - 1
    return 3 * root / skew


def skewed_bounds(difference: float, se: float, skew: float, q: float) -> tuple[float, float]:
    """The effects ``Δ`` with ``|g((difference − Δ)/se)| ≤ q`` (see the module doc)."""
    return difference - se * hall_inverse(skew, q), difference - se * hall_inverse(skew, -q)


def widened_bounds(difference: float, se: float, skew: float, q: float) -> tuple[float, float]:
    """The symmetric interval ``difference ± q·se`` widened on the side the skewness points
    to, as far as :func:`skewed_bounds` reaches: never narrower than the symmetric one."""
    low, high = skewed_bounds(difference, se, skew, q)
    return min(low, difference - q * se), max(high, difference + q * se)
