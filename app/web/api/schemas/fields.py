"""Request fields (bodies, query and path parameters) under the input rules of
`app/formats/text.py`: a refused character answers 422 naming the field, the character and its
position, and an id outside the database's range answers 422, before any route code runs."""

from typing import Annotated

from pydantic import AfterValidator, Field

from app.formats.text import MAX_ROW_ID, TextKind, text_problem


def _checked(kind: TextKind) -> AfterValidator:
    def check(value: str) -> str:
        problem = text_problem(value, kind)
        if problem is not None:
            raise ValueError(problem)
        return value

    return AfterValidator(check)


PlainText = Annotated[str, _checked(TextKind.TEXT)]  # free text: line breaks and tabs allowed
PlainLine = Annotated[str, _checked(TextKind.LINE)]  # one line
PlainName = Annotated[str, _checked(TextKind.NAME)]  # an identifier: one line, nothing invisible
RowIdValue = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]  # a row id in a body
