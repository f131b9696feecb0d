"""Routing: which channels an incident goes to, by massif, commune and local time of day."""

from __future__ import annotations

import unicodedata
from datetime import datetime, time

from central.dispatch.config import DispatchConfig, Rule


def _folded(name: str) -> str:
    """Compare place names without case or accents: 'Esterel' matches 'Estérel'."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char)).strip()


def in_window(local: time, window: tuple[time, time]) -> bool:
    """``start <= local < end``; a window whose end is before its start crosses midnight."""
    start, end = window
    if start <= end:
        return start <= local < end
    return local >= start or local < end


def rule_matches(rule: Rule, massif: str | None, commune: str | None, local: time) -> bool:
    if rule.massifs and (
        massif is None or _folded(massif) not in {_folded(m) for m in rule.massifs}
    ):
        return False
    if rule.communes and (
        commune is None or _folded(commune) not in {_folded(c) for c in rule.communes}
    ):
        return False
    window = rule.window()
    return window is None or in_window(local, window)


def route(
    config: DispatchConfig, massif: str | None, commune: str | None, at: datetime
) -> tuple[str, ...]:
    """Channel names for an incident at ``at`` (tz-aware), in rule order, without repeats."""
    local = at.astimezone(config.zone).time()
    chosen: dict[str, None] = {}
    for rule in config.rules:
        if rule_matches(rule, massif, commune, local):
            chosen.update(dict.fromkeys(rule.channels))
    return tuple(chosen)
