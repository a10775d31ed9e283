"""``chatcrm simulate`` on a small shop: the table of true vs reported values and the
detectable-uplift sentence, on a scratch SQLite file."""

from __future__ import annotations

import pytest

from bot.cli import main


@pytest.mark.e2e
def test_simulate_prints_matching_true_and_reported_values(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CHATCRM_DATABASE_URL", "sqlite+aiosqlite:///unused.db")
    monkeypatch.setenv("COLUMNS", "160")
    code = main(["simulate", "--members", "40", "--days", "7", "--seed", "3", "--holdout", "30"])
    out = capsys.readouterr().out
    assert code == 0
    assert "recipients" in out
    assert "✓" in out
    assert "✗" not in out
    assert "you can detect an uplift of about" in out
