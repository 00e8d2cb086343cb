"""What of a student's markup the feedback page keeps: an allowlist, applied with nh3 (Ammonia).

A student controls their markdown cells and what their own cells display (``text/html``,
``text/markdown``, the TeX of their math). The feedback page shows it beside the grader's own
parts (the scores, the parts' names, the failure messages), so it must not be able to change how
those look or whether they show: no ``<style>``, no ``style`` attribute but a table cell's
``text-align``, no class but a code highlighter's, no ``id``, no ``<meta>``, ``<base>``,
``<link>``, ``<form>``, ``<iframe>``, ``<object>``, ``<svg>``, script or event handler, and
markup that cannot leave its own container (the fragment is parsed on its own, as a browser
parses it, and written back balanced; comments are dropped). What stays is what markdown,
pandas and the page's own math need: headings, paragraphs, lists, tables, code, emphasis, links
to ``http(s):``, ``mailto:`` and ``#`` fragments, images from ``data:`` addresses of raster
types, and MathML (:data:`MATHML_TAGS`) whose attributes hold plain values: lengths that take
room in the flow (nothing drawn outside its box, over what is above it), colours by name or
number, letters no larger than three times their size.

* :func:`sanitize_html`: a fragment of HTML, MathML included (markdown rendered, an output);
* :func:`sanitize_mathml`: MathML alone (what ``latex2mathml`` made of a student's TeX, where
  ``\\text{...}`` and its kin copy their argument as markup, and ``\\style`` or ``\\href`` make
  attributes).
"""

from __future__ import annotations

import re

import nh3
from pygments.token import STANDARD_TYPES

__all__ = ["HTML_TAGS", "MATHML_TAGS", "sanitize_html", "sanitize_mathml"]

HTML_TAGS = frozenset(
    """h1 h2 h3 h4 h5 h6 p br hr div span blockquote ul ol li dl dt dd table caption thead tbody
    tfoot tr th td pre code kbd samp var em strong b i u s del ins sub sup small abbr q cite a img
    details summary""".split()
)
#: what latex2mathml writes (and MathML Core draws); no annotation-xml (it may hold HTML)
MATHML_TAGS = frozenset(
    """math mrow mi mn mo ms mtext mspace msup msub msubsup mfrac msqrt mroot mover munder
    munderover mmultiscripts mprescripts none mtable mtr mtd mstyle mpadded mphantom menclose
    merror semantics annotation""".split()
)
#: removed with everything inside them (the others are unwrapped: their text stays)
DROPPED_WITH_CONTENT = frozenset(
    """script style template textarea title noscript noembed noframes xmp iframe object embed
    select svg""".split()
)

_HTML_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"colspan", "rowspan", "style"},
    "td": {"colspan", "rowspan", "style"},
    "ol": {"start"},
    "abbr": {"title"},
    "details": {"open"},
}
_LENGTHS = {"width", "height", "depth", "lspace", "rspace", "minsize", "maxsize"}
#: no voffset, and no mpadded height or depth: they draw content outside its own box, over what
#: is above it (nested, without bound); the other lengths only take room, in the flow
_MATHML_ATTRIBUTES = {
    "math": {"display"},
    "mspace": {"width", "height", "depth", "linebreak"},
    "mpadded": {"width"},
    "mo": {
        "lspace",
        "rspace",
        "minsize",
        "maxsize",
        "stretchy",
        "fence",
        "separator",
        "form",
        "largeop",
        "movablelimits",
        "accent",
        "symmetric",
    },
    "mover": {"accent"},
    "munder": {"accentunder"},
    "munderover": {"accent", "accentunder"},
    "mfrac": {"linethickness"},
    "mstyle": {"displaystyle", "scriptlevel", "mathsize"},
    "mtable": {"columnalign", "rowalign", "columnlines", "rowlines", "frame", "displaystyle"},
    "mtr": {"columnalign", "rowalign"},
    "mtd": {"columnalign", "rowalign", "columnspan", "rowspan"},
    "menclose": {"notation"},
}
_EVERY_MATHML = {"mathvariant", "mathcolor", "mathbackground"}

#: the classes of highlighted code (pygments), and the page's own for TeX it could not read
_CLASSES = {
    "div": {"highlight"},
    "span": {name for name in STANDARD_TYPES.values() if name},
    "code": {"tex"},
}

_RASTER = re.compile(r"data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*", re.I)
_LINK = re.compile(r"(https?:|mailto:|#)", re.I)
_NUMBER = re.compile(r"\d{1,4}")
# a length in em (or another unit), or a named space
_LENGTH = re.compile(r"(-?)(\d{1,3}(?:\.\d*)?|\.\d+)(em|ex|mu|pt|px|%)?")
_EM = {"em": 1.0, "ex": 0.5, "mu": 1 / 18, "pt": 0.1, "px": 1 / 16, "%": 0.01, None: 1.0}
_NAMED_SPACE = re.compile(r"(negative)?(very){0,2}(thin|thick|medium)mathspace|infinity|auto")
_SIZES = {"small", "normal", "big", "thin", "medium", "thick"}
_COLOUR = re.compile(r"#[0-9a-f]{3,8}|[a-z]{1,20}", re.I)
_WORDS = re.compile(r"[a-z]+(?:[ -][a-z]+)*", re.I)  # true, block, double-struck, solid none
_LEVEL = re.compile(r"\+?[0-2]")  # smaller, never larger than the text


def _length(value: str, limit: float = 20) -> bool:
    """A length of at most ``limit`` em, or back by at most 1 em (TeX's ``\\!``)."""
    if _NAMED_SPACE.fullmatch(value):
        return True
    match = _LENGTH.fullmatch(value)
    if not match:
        return False
    ems = float(match.group(2)) * _EM[match.group(3)]
    return ems <= min(1, limit) if match.group(1) else ems <= limit


def _keep(tag: str, attribute: str, value: str) -> str | None:
    """An attribute's value if it is a plain one for its place, otherwise None (dropped)."""
    value = value.strip()
    if attribute == "href":
        return value if _LINK.match(value) else None
    if attribute == "src":
        return value if tag == "img" and _RASTER.fullmatch(value) else None
    if attribute in ("colspan", "rowspan", "columnspan", "start") or (
        tag == "img" and attribute in ("width", "height")
    ):
        return value if _NUMBER.fullmatch(value) else None
    if attribute == "mathsize":  # letters up to three times their size
        return value if _length(value, limit=3) or value in _SIZES else None
    if attribute in _LENGTHS or attribute == "linethickness":
        return value if _length(value) or value in _SIZES else None
    if attribute in ("mathcolor", "mathbackground"):
        return value if _COLOUR.fullmatch(value) else None
    if attribute == "scriptlevel":
        return value if _LEVEL.fullmatch(value) else None
    if attribute == "class":
        kept = [name for name in value.split() if name in _CLASSES.get(tag, ())]
        return " ".join(kept) or None
    if attribute in ("title", "alt", "style", "open"):
        return value  # text, or the style nh3 filters to text-align
    return value if _WORDS.fullmatch(value) else None


def _cleaner(tags: frozenset[str]) -> nh3.Cleaner:
    attributes = {t: set(a) for t, a in _HTML_ATTRIBUTES.items() if t in tags}
    for tag in _CLASSES.keys() & tags:  # the names are checked by _keep
        attributes[tag] = attributes.get(tag, set()) | {"class"}
    for tag in MATHML_TAGS & tags:
        attributes[tag] = _MATHML_ATTRIBUTES.get(tag, set()) | _EVERY_MATHML
    return nh3.Cleaner(
        tags=set(tags),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes=attributes,
        attribute_filter=_keep,
        url_schemes={"http", "https", "mailto", "data"},
        filter_style_properties={"text-align"},
        strip_comments=True,
    )


_HTML = _cleaner(HTML_TAGS | MATHML_TAGS)
_MATHML = _cleaner(MATHML_TAGS)


def sanitize_html(fragment: str) -> str:
    """``fragment`` with only the allowlisted tags, attributes and values (see the module doc)."""
    return _HTML.clean(str(fragment))


def sanitize_mathml(mathml: str) -> str:
    """``mathml`` with only MathML's allowlisted tags, attributes and values: no HTML at all."""
    return _MATHML.clean(str(mathml))
