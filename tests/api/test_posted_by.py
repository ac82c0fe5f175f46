"""``posted_by``: which organisation posted an interchange, read from its ``source``."""

from __future__ import annotations

import pytest

from gateway.api.messages import posted_by


@pytest.mark.parametrize(
    ("source", "name", "expected"),
    [
        ("api:Region", "Region", True),
        ("hospital:Region", "Region", True),
        ("hospital:Region Hovedstaden vans:8c7e0d7a-2f41-4d4e-9c55-0b1f6f0d2a11",
         "Region Hovedstaden", True),
        ("api:Region Hovedstaden", "Region", False),  # a name that starts another's
        ("hospital:Region vans:8c7e", "Region Hovedstaden", False),
        ("case:R-1", "Region", False),
        ("5790000120420/in.edi", "Region", False),
        ("", "Region", False),
    ],
)
def test_posted_by_reads_the_organisation_exactly(source, name, expected):
    assert posted_by(source, name) is expected
