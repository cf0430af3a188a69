"""Typed path and query parameters shared by the declarations. Every parameter an operation
reads is a field of its params model, so bad input (a NUL byte, a number past its column's
range, a malformed date) is a 400 with the field named, never a 500, and OpenAPI documents it."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

INT4_MAX = 2**31 - 1
INT8_MAX = 2**63 - 1

HallCode = Annotated[str, Field(pattern=r"^[a-z0-9-]{2,32}$", description="hall code")]
WindowNo = Annotated[int, Field(ge=1, le=999, description="window number")]
Int4Id = Annotated[int, Field(ge=1, le=INT4_MAX)]
Int8Id = Annotated[int, Field(ge=1, le=INT8_MAX)]
Seq = Annotated[int, Field(ge=0, le=INT8_MAX)]
Code = Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,40}$")]


class Params(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class HallParams(Params):
    hall: HallCode


class WindowParams(HallParams):
    window_no: WindowNo


class SignInParams(WindowParams):
    move: bool = Field(
        False,
        description="move from the window the clerk is signed in at (its sign-in ends and it "
        "closes); without it, a clerk signed in elsewhere is asked first (409 "
        "signed_in_elsewhere)",
    )


class DayParams(HallParams):
    day: date = Field(description="YYYY-MM-DD")
