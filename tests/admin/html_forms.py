"""Read the POST forms of a page as a browser would submit them, for the admin walk."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

# Input types a browser sends as they are; checkboxes and radios only when checked.
_SENT_AS_IS = {"text", "hidden", "email", "number", "password", "date", "time",
               "datetime-local", "url", "search", "tel", ""}


@dataclass
class HTMLForm:
    action: str
    method: str
    data: dict[str, list[str]] = field(default_factory=dict)
    choices: dict[str, list[str]] = field(default_factory=dict)  # every option of a select

    def add(self, name: str, value: str) -> None:
        self.data.setdefault(name, []).append(value)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[HTMLForm] = []
        self._form: HTMLForm | None = None
        self._select: tuple[str, bool] | None = None  # (name, multiple)
        self._options: list[tuple[str, bool]] = []
        self._option_value: str | None = None
        self._option_selected = False
        self._option_text = ""
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs) -> None:
        attributes = {name: (value if value is not None else "") for name, value in attrs}
        if tag == "form":
            self._form = HTMLForm(attributes.get("action", ""),
                                  attributes.get("method", "get").lower())
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        name = attributes.get("name")
        if tag == "input" and name and "disabled" not in attributes:
            kind = attributes.get("type", "text").lower()
            if kind in _SENT_AS_IS or (kind in {"checkbox", "radio"} and "checked" in attributes):
                self._form.add(name, attributes.get("value", "on" if kind == "checkbox" else ""))
        elif tag == "select" and name and "disabled" not in attributes:
            self._select = (name, "multiple" in attributes)
            self._options = []
        elif tag == "option" and self._select is not None:
            self._option_value = attributes.get("value")
            self._option_selected = "selected" in attributes
            self._option_text = ""
        elif tag == "textarea" and name and "disabled" not in attributes:
            self._textarea, self._text = name, ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data
        if self._option_value is None and self._select is not None:
            self._option_text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "option" and self._select is not None:
            value = self._option_value if self._option_value is not None else self._option_text
            self._options.append((value.strip(), self._option_selected))
            self._option_value = None
        elif tag == "select" and self._select is not None and self._form is not None:
            name, multiple = self._select
            self._form.choices[name] = [value for value, _ in self._options]
            chosen = [value for value, selected in self._options if selected]
            if not chosen and not multiple and self._options:
                chosen = [self._options[0][0]]
            for value in chosen:
                self._form.add(name, value)
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            self._form.add(self._textarea, self._text.lstrip("\n"))
            self._textarea = None


def post_forms(html: str) -> list[HTMLForm]:
    """Return the page's forms that a browser would POST, with the values it would send."""
    parser = _FormParser()
    parser.feed(html)
    return [form for form in parser.forms if form.method == "post"]
