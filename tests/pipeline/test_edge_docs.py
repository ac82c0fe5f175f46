"""docs/architecture.md shows the lifecycle exactly as the transition table has it."""

from __future__ import annotations

from pathlib import Path

from gateway.store.states import mermaid_diagram

DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


def test_state_diagram_in_the_docs_is_the_table() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert f"```mermaid\n{mermaid_diagram()}\n```" in text, (
        "regenerate the diagram in docs/architecture.md from gateway.store.states.mermaid_diagram()"
    )
