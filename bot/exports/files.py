"""Writing a table as CSV or XLSX: typed cells, and nothing a spreadsheet would run as a formula.

* CSV: UTF-8 with a byte-order mark (so Excel reads Cyrillic and Kazakh letters right), ``;``
  between fields and a decimal comma, as Excel expects in Kazakhstan's kk and ru settings; times
  as ``YYYY-MM-DD HH:MM``. A text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
  return gets a leading apostrophe, the usual defence against formula injection.
* XLSX (XlsxWriter): numbers as numbers, times as Excel dates with a date format, every text as a
  text cell; a text that would read as a formula is also marked "quote prefix", so Excel keeps it
  text even when someone edits the cell.

Both functions are pure and run in the worker process (``bot.stats.offload``).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

CellType = Literal["text", "int", "float", "datetime", "date"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MAX_SHEET_NAME = 31
_SHEET_FORBIDDEN = str.maketrans({char: " " for char in "[]:*?/\\"})


@dataclass(frozen=True)
class Table:
    sheet: str
    headers: list[str]
    types: list[CellType]
    rows: list[list[Any]] = field(default_factory=list)


def neutralise(text: str) -> str:
    """A text a spreadsheet would take for a formula, made plain text."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _csv_cell(value: Any, kind: CellType) -> str:
    if value is None:
        return ""
    if kind == "datetime" and isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if kind == "date" and isinstance(value, date):
        return value.isoformat()
    if kind == "float" and isinstance(value, float):
        return repr(round(value, 6)).replace(".", ",")
    if kind == "int":
        return str(value)
    return neutralise(str(value))


def write_csv(table: Table) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([neutralise(header) for header in table.headers])
    for row in table.rows:
        writer.writerow([_csv_cell(value, kind) for value, kind in zip(row, table.types, strict=True)])
    return buffer.getvalue().encode("utf-8-sig")


def sheet_name(name: str) -> str:
    return name.translate(_SHEET_FORBIDDEN).strip()[:MAX_SHEET_NAME] or "Sheet1"


def write_xlsx(table: Table) -> bytes:
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    header = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "text_wrap": True, "valign": "top"})
    formats = {
        "datetime": workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
        "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
        "float": workbook.add_format({"num_format": "0.0#"}),
    }
    quoted = workbook.add_format({"quote_prefix": True})
    sheet = workbook.add_worksheet(sheet_name(table.sheet))
    for column, title in enumerate(table.headers):
        sheet.write_string(0, column, title, header)
    widths = [max(10, min(40, len(title) + 2)) for title in table.headers]
    for number, row in enumerate(table.rows, start=1):
        for column, (value, kind) in enumerate(zip(row, table.types, strict=True)):
            if value is None:
                continue
            if kind == "datetime" and isinstance(value, datetime):
                sheet.write_datetime(number, column, value, formats["datetime"])
                widths[column] = max(widths[column], 17)
            elif kind == "date" and isinstance(value, date):
                sheet.write_datetime(number, column, value, formats["date"])
            elif kind in ("int", "float") and isinstance(value, int | float):
                sheet.write_number(number, column, value, formats.get(kind))
            else:
                text = str(value)
                if text.startswith(FORMULA_STARTS):
                    sheet.write_string(number, column, text, quoted)
                else:
                    sheet.write_string(number, column, text)
                widths[column] = max(widths[column], min(40, len(text) + 2))
    for column, width in enumerate(widths):
        sheet.set_column(column, column, width)
    sheet.freeze_panes(1, 0)
    if table.headers:
        sheet.autofilter(0, 0, max(1, len(table.rows)), len(table.headers) - 1)
    workbook.close()
    return buffer.getvalue()


def write(table: Table, fmt: Literal["csv", "xlsx"]) -> bytes:
    return write_xlsx(table) if fmt == "xlsx" else write_csv(table)
