"""A summary table in the two forms the orchestrator writes: fixed-width text for the
terminal and ``summary.txt``, Markdown for the parent run's description, which MLflow's
UI renders on the run page. Pure."""

from __future__ import annotations


def fixed_width(header: tuple[str, ...], rows: list[list[str]], notes: list[str]) -> str:
    """Columns padded to their widest cell, a rule under the header, then ``notes``."""
    table = [list(header), *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in table
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join([*lines, *notes]) + "\n"


def markdown(
    title: str,
    header: tuple[str, ...],
    rows: list[list[str]],
    notes: list[str],
    links: dict[str, str] | None = None,
) -> str:
    """A Markdown heading, table and bullet list of ``notes``. A cell equal to a key of
    ``links`` becomes a link to its value; a ``|`` in a cell is escaped so it cannot
    split the row."""
    targets = links or {}

    def cell_text(cell: str) -> str:
        escaped = cell.replace("|", "\\|")
        return f"[{escaped}]({targets[cell]})" if cell in targets else escaped

    def row(cells: list[str]) -> str:
        return "| " + " | ".join(cell_text(cell) for cell in cells) + " |"

    lines = [f"### {title}", "", row(list(header)), "|" + " --- |" * len(header)]
    lines.extend(row(cells) for cells in rows)
    if notes:
        lines.append("")
        lines.extend(f"- {note}" for note in notes)
    return "\n".join(lines) + "\n"
