"""The notice's barcode: Code128 of the registration number, as SVG (python-barcode)."""

from __future__ import annotations

import io
import re

import barcode
from barcode.writer import SVGWriter

from server.domain.errors import Invalid

_REG_NO = re.compile(r"^[0-9A-Z]{6,24}$")


def barcode_svg(reg_no: str) -> bytes:
    if not _REG_NO.match(reg_no):
        raise Invalid("登记号格式不正确", code="invalid_reg_no", field="reg_no")
    code = barcode.get("code128", reg_no, writer=SVGWriter())
    out = io.BytesIO()
    code.write(
        out,
        options={
            "module_width": 0.3,
            "module_height": 12,
            "font_size": 8,
            "text_distance": 4,
            "quiet_zone": 2,
        },
    )
    return out.getvalue()
