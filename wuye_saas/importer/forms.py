"""The upload form of the import page."""
from __future__ import annotations

from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import HiddenField
from wtforms.validators import AnyOf, ValidationError

from ..formutil import Form
from .logic import KINDS

MAX_BYTES = 10 * 1024 * 1024


class ImportForm(Form):
    kind = HiddenField(validators=[AnyOf(list(KINDS), message="请选择要导入的数据类型")])
    file = FileField("数据文件", validators=[
        FileRequired("请选择要上传的文件"),
        FileAllowed(["xlsx", "csv"], "只能上传 .xlsx 或 .csv 文件（旧版 .xls 请在 Excel 中另存为 .xlsx）"),
    ])

    def validate_file(self, field):
        stream = field.data.stream
        stream.seek(0, 2)
        size = stream.tell()
        stream.seek(0)
        if size == 0:
            raise ValidationError("文件是空的")
        if size > MAX_BYTES:
            raise ValidationError(f"文件超过 {MAX_BYTES // (1024 * 1024)} MB，请拆分后分别导入")
        if field.data.filename.lower().endswith(".xlsx") and stream.read(2) != b"PK":
            # An .xlsx is a zip archive; anything else renamed to .xlsx is refused here.
            stream.seek(0)
            raise ValidationError("文件不是有效的 .xlsx 格式，请在 Excel 中另存为 .xlsx 后重试")
        stream.seek(0)
