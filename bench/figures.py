"""Where every benchmark keeps its figures: `bench/results/<name>.json` (not committed)."""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def save_figures(name: str, figures: object) -> Path:
    """Write one benchmark's figures as JSON; returns the file."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return path
