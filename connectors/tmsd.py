"""TMSD (Twentse Monitor Sociaal Domein): quarterly youth-care trajectory files per municipality.

`tmsd_jeugd_<GMcode>_<yyyy>Q<q>_v<n>.csv`, `;`-separated, UTF-8 (older deliveries cp1252), decimal commas.
Reading is all form (`connectors.files`); what a value must be is the contract's and the quality gate's.
"""

from __future__ import annotations

from collections.abc import Mapping

from connectors.base import ParsedTable
from connectors.files import read_csv, redact_text
from monitorlink.core.contracts import Contract, load_contract

CONTRACT = load_contract("tmsd.v1")
source = CONTRACT.name
contracts: tuple[Contract, ...] = (CONTRACT,)


def parse(name: str, content: bytes) -> list[ParsedTable]:
    """The trajectories of one delivery file."""
    return [read_csv(content, CONTRACT)]


def redact(content: bytes, replacements: Mapping[str, str]) -> bytes:
    """The file with delivered citizen service numbers replaced by their pseudonyms, encoding kept."""
    return redact_text(content, replacements)
