"""The filter row's layout: one row when wide, more rows when narrow, never wider than asked."""

from __future__ import annotations

from PySide6.QtWidgets import QLineEdit, QToolButton, QWidget
from pytestqt.qtbot import QtBot

from gui.ui.flow_layout import FlowLayout


def _row(qtbot: QtBot) -> tuple[QWidget, list[QToolButton], QLineEdit, FlowLayout]:
    holder = QWidget()
    qtbot.addWidget(holder)
    layout = FlowLayout(holder)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.stretch_last = True
    buttons = []
    for n in range(6):
        button = QToolButton(holder)
        button.setText(f"State {n} 0")
        layout.addWidget(button)
        buttons.append(button)
    field = QLineEdit(holder)
    field.setMinimumWidth(120)
    layout.addWidget(field)
    return holder, buttons, field, layout


def test_a_wide_row_holds_everything_and_the_field_takes_the_rest(qtbot: QtBot) -> None:
    holder, buttons, field, layout = _row(qtbot)
    wide = layout.sizeHint().width() + 200
    holder.resize(wide, 200)
    holder.show()
    qtbot.waitExposed(holder)
    assert {button.y() for button in buttons} == {0}
    assert field.y() == 0
    assert field.geometry().right() == wide - 1  # stretched to the row's end
    assert layout.heightForWidth(wide) == max(b.sizeHint().height() for b in [*buttons, field])


def test_a_narrow_row_wraps_and_needs_only_its_widest_item(qtbot: QtBot) -> None:
    holder, buttons, field, layout = _row(qtbot)
    one_row = layout.sizeHint().width()
    narrow = one_row // 2
    assert layout.minimumSize().width() < narrow  # it may be made this narrow
    holder.resize(narrow, 300)
    holder.show()
    qtbot.waitExposed(holder)
    rows = {button.y() for button in buttons} | {field.y()}
    assert len(rows) >= 2
    for widget in [*buttons, field]:
        assert widget.geometry().right() < narrow  # nothing sticks out
    assert layout.heightForWidth(narrow) > layout.heightForWidth(one_row)


def test_hidden_items_take_no_place(qtbot: QtBot) -> None:
    holder, buttons, _field, layout = _row(qtbot)
    full = layout.sizeHint().width()
    buttons[0].hide()
    assert layout.sizeHint().width() < full
    holder.resize(full + 50, 100)
    holder.show()
    qtbot.waitExposed(holder)
    assert buttons[1].x() == 0  # the first shown one starts the row
