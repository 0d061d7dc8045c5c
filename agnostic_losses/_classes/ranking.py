"""Ranking loss classes: ``MarginRankingLoss`` lives in ``margin``; torch has no listwise one."""

__all__: list[str] = []
