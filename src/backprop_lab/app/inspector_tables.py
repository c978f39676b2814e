"""Compact read-only tables for the inspector's pages."""

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
)

# a table grows to show this many rows before it scrolls
VISIBLE_ROWS = 12


def make_table(name: str, headers) -> QTableWidget:
    """A read-only table whose columns fit their text; the last takes the rest."""
    table = QTableWidget()
    table.setObjectName(name)
    # sections take their size when created: make them small first
    table.horizontalHeader().setMinimumSectionSize(24)
    table.horizontalHeader().setDefaultSectionSize(40)
    table.setColumnCount(len(headers))
    table.setHorizontalHeaderLabels(list(headers))
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 6)
    table.setEditTriggers(QAbstractItemView.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectRows)
    # the page never grows for a wide table: the table scrolls instead
    table.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Fixed)
    table.setMinimumWidth(0)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeToContents)
    header.setStretchLastSection(True)
    fit_height(table)
    return table


def fill_row(table: QTableWidget, row: int, cells, bold: bool = False) -> None:
    """Put texts into one row; numbers right-aligned."""
    for column, text in enumerate(cells):
        item = QTableWidgetItem(text)
        if column:
            item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
        if bold:
            font = QFont(table.font())
            font.setBold(True)
            item.setFont(font)
        table.setItem(row, column, item)


def fit_height(table: QTableWidget) -> None:
    """Make the table exactly as tall as its rows, up to VISIBLE_ROWS."""
    rows = min(max(table.rowCount(), 1), VISIBLE_ROWS)
    height = table.horizontalHeader().sizeHint().height()
    height += rows * table.verticalHeader().defaultSectionSize()
    table.setFixedHeight(height + 2 * table.frameWidth())
