"""The one error of the LÆ forms: a form that is wrong, with every wrong field named."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.errors import RemoteMessageError


@dataclass(frozen=True)
class FieldError:
    """One problem, at a dotted field path such as ``lae265.answers[2].answer``."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class FormValidationError(RemoteMessageError):
    """A form (received or about to be sent) is invalid; ``errors`` names each field."""

    def __init__(self, errors: list[FieldError] | tuple[FieldError, ...]) -> None:
        self.errors = tuple(errors)
        super().__init__("; ".join(str(e) for e in self.errors) or "invalid form")

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(e.field for e in self.errors)

    def to_dict(self) -> list[dict[str, str]]:
        return [{"field": e.field, "message": e.message} for e in self.errors]
