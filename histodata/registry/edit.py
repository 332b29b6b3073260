"""Careful edits of a registry entry's YAML text: replace one source's `files:` list and keep every
other byte of the file (comments, key order, quoting, line breaks) as it was.

PyYAML's composer gives each node of the document its position in the text; the edit replaces only
the text span of that source's `files` value (or inserts a `files:` key after the source's last
field), written one file per line as flow mappings (`- {name: a.zip, size: 12, md5: ...}`), the
registry's usual style. The result is parsed again and must equal the old document with only that
list changed, so a surprising layout is refused rather than written wrongly.
"""
from __future__ import annotations

from typing import Any

from ..errors import RegistryError

EDIT_HINT = "Edit the entry's `files:` by hand, or write its source in block style (one field per line)."


def file_line(spec: dict) -> str:
    """One file as a YAML flow mapping on one line, keys in the given order, strings quoted only
    where YAML needs it (a checksum of digits only, a name with `: `, ...)."""
    import yaml  # heavy: imported on first use

    text = yaml.safe_dump(spec, default_flow_style=True, sort_keys=False, width=1 << 30, allow_unicode=True)
    return text.strip()


def _node_end(node) -> tuple[int, int]:
    """(index, line) just after the node's last character: a block collection's own end mark lies at
    the next token (past blank lines and comments), so it ends where its last child ends."""
    import yaml  # heavy: imported on first use

    if isinstance(node, yaml.SequenceNode) and not node.flow_style and node.value:
        return _node_end(node.value[-1])
    if isinstance(node, yaml.MappingNode) and not node.flow_style and node.value:
        return _node_end(node.value[-1][1])
    return node.end_mark.index, node.end_mark.line


def _source_node(text: str, index: int):
    import yaml  # heavy: imported on first use

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as err:
        raise RegistryError(f"the entry is not valid YAML: {err}", EDIT_HINT) from None
    if not isinstance(root, yaml.MappingNode):
        raise RegistryError("the entry is not a mapping of fields.", EDIT_HINT)
    sources = next((value for key, value in root.value if key.value == "sources"), None)
    if not isinstance(sources, yaml.SequenceNode) or not 0 <= index < len(sources.value):
        raise RegistryError(f"the entry has no source {index + 1}.", EDIT_HINT)
    node = sources.value[index]
    if not isinstance(node, yaml.MappingNode) or node.flow_style:
        raise RegistryError(f"source {index + 1} is written in flow style ({{kind: ..., ...}}) on one line; "
                            "its files cannot be rewritten in place.", EDIT_HINT)
    return node


def _line_start(text: str, position: int) -> int:
    return text.rfind("\n", 0, position) + 1


def replace_source_files(text: str, index: int, files: list[dict]) -> str:
    """`text` with the `files:` list of source `index` (0-based) replaced by `files`."""
    import yaml  # heavy: imported on first use

    source = _source_node(text, index)
    found = next(((key, value) for key, value in source.value if key.value == "files"), None)
    kept = _written_items(text, found[1]) if found else []
    lines = [next((written for value, written in kept if value == spec), None) or file_line(spec)
             for spec in files]
    if found is None:
        key_column = source.value[0][0].start_mark.column
        end, _ = _node_end(source)
        block = "\n".join(" " * (key_column + 2) + "- " + line for line in lines)
        added = "files:\n" + block if lines else "files: []"
        new = text[:end] + "\n" + " " * key_column + added + text[end:]
    else:
        key, value = found
        start, (end, _) = value.start_mark.index, _node_end(value)
        if isinstance(value, yaml.SequenceNode) and not value.flow_style and value.value:
            column = value.start_mark.column            # where the existing `- ` items start
            prefix = ""
        else:                                           # `files: []`, a flow list or an empty value
            column = key.start_mark.column + 2
            start = key.end_mark.index + 1             # just after `files:`
            prefix = "\n" + " " * column
        if not lines:
            new = text[:key.end_mark.index + 1] + " []" + text[end:]
        else:
            body = ("\n" + " " * column).join("- " + line for line in lines)
            new = text[:start] + prefix + body + text[end:]
    check_edit(text, new, index, files)
    return new


def _written_items(text: str, files_node) -> list[tuple[Any, str]]:
    """(value, text as written) of each item of a block `files:` list, so an unchanged file keeps
    its line (its quoting, key order and spacing) exactly."""
    import yaml  # heavy: imported on first use

    if not isinstance(files_node, yaml.SequenceNode) or files_node.flow_style:
        return []
    items = []
    for item in files_node.value:
        written = text[item.start_mark.index:_node_end(item)[0]]
        try:
            value = yaml.safe_load(" " * item.start_mark.column + written)
        except yaml.YAMLError:
            continue
        items.append((value, written))
    return items


def check_edit(old: str, new: str, index: int, files: list[dict]) -> None:
    """The new text must read as the old document with only source `index`'s files replaced."""
    import yaml  # heavy: imported on first use

    before: Any = yaml.safe_load(old)
    try:
        after: Any = yaml.safe_load(new)
    except yaml.YAMLError as err:
        raise RegistryError(f"rewriting the files of source {index + 1} would break the YAML ({err}).",
                            EDIT_HINT) from None
    before["sources"][index]["files"] = files
    if after != before:
        raise RegistryError(f"rewriting the files of source {index + 1} in place would change more than "
                            "its files.", EDIT_HINT)
