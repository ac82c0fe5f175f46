"""MedCom EDIFACT codec (sans-IO): bytes -> ``Interchange`` of pydifact segments -> bytes."""

from gateway.edifact.errors import EdifactError

__all__ = ["EdifactError"]
