"""Readable locations of XML elements for error messages (``/Emessage/Letter/Other[2]``)."""

from __future__ import annotations

from lxml import etree


def local_name(element: etree._Element) -> str:
    return etree.QName(element).localname


def path_of(element: etree._Element) -> str:
    """XPath-like path by local names, with [n] where siblings share the name."""
    steps = []
    node = element
    while node is not None:
        name = local_name(node)
        parent = node.getparent()
        if parent is not None:
            same = [c for c in parent if isinstance(c.tag, str) and local_name(c) == name]
            if len(same) > 1:
                name += f"[{same.index(node) + 1}]"
        steps.append(name)
        node = parent
    return "/" + "/".join(reversed(steps))
