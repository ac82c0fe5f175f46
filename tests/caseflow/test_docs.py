"""docs/caseflow.md shows the current transition table (diagram and table are generated)."""

from __future__ import annotations

from pathlib import Path

from gateway.caseflow.states import _STEPS, ANY_OPEN, mermaid

DOC = Path(__file__).resolve().parents[2] / "docs" / "caseflow.md"


def test_diagram_and_table_match_the_transition_table() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert f"```mermaid\n{mermaid()}\n```" in text
    for state, events in _STEPS.items():
        for event, target in events.items():
            assert f"| `{state.value}` | `{event.value}` | `{target.value}` |" in text
    for event in ANY_OPEN:
        assert f"| any open state | `{event.value}` |" in text
