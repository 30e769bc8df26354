"""The subscription form."""
from __future__ import annotations

from wtforms import StringField
from wtforms.validators import InputRequired, Length

from ..formutil import Form
from ..notifications.forms import MultiCheckbox
from .logic import kind_labels


class SubscriptionForm(Form):
    url = StringField("接收地址", validators=[InputRequired("请填写接收地址。"),
                                          Length(max=500, message="接收地址不能超过 500 个字符。")],
                      description="对方系统接收推送的 HTTPS 地址，收到后 10 秒内返回 2xx 即视为成功。")
    kinds = MultiCheckbox("订阅的事件", choices=[], validate_choice=False)

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.kinds.choices = list(kind_labels().items())
