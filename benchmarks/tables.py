"""Markdown for BENCHMARKS.md: numbers, tables, verdicts (`report` and
`landmark_report` write with these)."""

from __future__ import annotations


def n(value, digits: int = 0) -> str:
    """A number with thousands separators; '-' for None."""
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def sig(value) -> str:
    """About three significant digits, for rates that span 1 to 10^7."""
    if value is None:
        return "-"
    if value >= 100:
        return n(value)
    return n(value, 1 if value >= 10 else 2)


def minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min"


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines + [""]


def yes(ok: bool) -> str:
    return "**met**" if ok else "**missed**"


def missing(name: str) -> list[str]:
    return [f"Not measured in this run (`python -m benchmarks.run --only={name}`).", ""]
