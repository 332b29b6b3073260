"""Parse downloaded XML with defusedxml (no entities, no external references)."""
from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError

from .geometry import AnnotationFormatError


def parse_xml(data: bytes, label: str) -> Element:
    from defusedxml import DefusedXmlException  # heavy: imported on first use
    from defusedxml.ElementTree import fromstring

    try:
        return fromstring(data)
    except DefusedXmlException as err:
        raise AnnotationFormatError(f"{label}: refusing XML with {type(err).__name__} "
                                    "(entities or external references are not allowed).") from err
    except (ParseError, ValueError, RecursionError) as err:
        raise AnnotationFormatError(f"{label}: not well-formed XML ({err}).") from err
