"""Small hand-made deliveries for tests that need a real file but not a whole simulation."""

from __future__ import annotations

from monitorlink.simulator.tmsd import HEADER, csv_bytes

ROW = [
    "a" * 64,
    "2012",
    "M",
    "GM0141",
    "",
    "huisarts",
    "ambulant",
    "45A01",
    "12345678",
    "2",
    "2023-01-10",
    "",
    "",
    "N",
    "1.250,00",
]


def tmsd_row(**changes: str) -> list[str]:
    """One valid TMSD row as delivered, with the given fields changed."""
    values = dict(zip(HEADER, ROW, strict=True)) | changes
    return list(values.values())


def tmsd_file(*rows: list[str]) -> bytes:
    """A TMSD delivery's bytes (`;`-CSV with the Dutch header) holding these rows."""
    return csv_bytes(HEADER, list(rows))
