"""Provider adapters: `log` (the default: the app log and the outbox row), Aliyun SMS (dysmsapi
SendSms, an RPC request signed with HMAC-SHA1) and WeChat template messages (an access_token,
then message/template/send). Endpoints are settings, so tests point them at a local server.

Each returns a Result: ok; retry (a failure worth trying again: HTTP 5xx/429, a refused
connection, throttling); uncertain (the request went out and no answer came back: the message
may have been sent — the outbox does not send it again by itself)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from flask import current_app

from .. import outbound

TIMEOUT = 10   # seconds
ALIYUN_ENDPOINT = "https://dysmsapi.aliyuncs.com/"
WECHAT_ENDPOINT = "https://api.weixin.qq.com"
# Aliyun codes that will not get better by trying again.
ALIYUN_PERMANENT = {"isv.MOBILE_NUMBER_ILLEGAL", "isv.TEMPLATE_MISSING_PARAMETERS", "isv.SMS_TEMPLATE_ILLEGAL",
                    "isv.SMS_SIGNATURE_ILLEGAL", "isv.INVALID_PARAMETERS", "isv.BLACK_KEY_CONTROL_LIMIT",
                    "isv.MOBILE_COUNT_OVER_LIMIT", "isv.PARAM_LENGTH_LIMIT", "InvalidAccessKeyId.NotFound",
                    "SignatureDoesNotMatch"}
WECHAT_PERMANENT = {40003, 40037, 43004, 47003}   # bad openid, bad template, not subscribed, bad data


@dataclass
class Result:
    ok: bool
    ref: str = ""
    error: str = ""
    retry: bool = True
    uncertain: bool = False


def send(cfg, msg, tmpl) -> Result:
    if cfg.provider == "aliyun" and msg.channel == "sms":
        return send_aliyun(cfg, msg, tmpl)
    if cfg.provider == "wechat" and msg.channel == "wechat":
        return send_wechat(cfg, msg, tmpl)
    current_app.logger.info("outbox %s [%s → %s] %s", msg.id, msg.channel, msg.recipient, msg.body)
    return Result(True, ref=f"log-{msg.id}")


def _call(method: str, url: str, body: bytes | None = None, headers: dict | None = None
          ) -> tuple[int, dict] | Result:
    """(HTTP status, the JSON body as a dict — {} when it is not JSON), or the failed Result."""
    try:
        status, raw = outbound.request(method, url, body, headers, timeout=TIMEOUT)
    except outbound.Refused as e:
        return Result(False, error=f"拒绝发送：{e.message}", retry=False)
    except TimeoutError as e:
        return Result(False, error=f"服务商未在 {TIMEOUT} 秒内应答（{e}），无法确认是否已发出", uncertain=True)
    except OSError as e:
        return Result(False, error=f"无法连接服务商：{e}")
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        data = {}
    return status, data if isinstance(data, dict) else {}


# --- Aliyun SMS ----------------------------------------------------------------------------------

def _pct(s: str) -> str:
    return urllib.parse.quote(s, safe="~")


def aliyun_signed_query(params: dict, secret: str) -> str:
    """The canonical query with its Signature (Aliyun RPC signature version 1.0, GET)."""
    canonical = "&".join(f"{_pct(k)}={_pct(str(v))}" for k, v in sorted(params.items()))
    to_sign = "GET&%2F&" + _pct(canonical)
    sig = base64.b64encode(hmac.new((secret + "&").encode(), to_sign.encode(), hashlib.sha1).digest()).decode()
    return f"Signature={_pct(sig)}&{canonical}"


def send_aliyun(cfg, msg, tmpl) -> Result:
    code = (tmpl.sms_template_code if tmpl is not None else "") or ""
    if not (cfg.key_id and cfg.secret and cfg.sign_name and code):
        return Result(False, error="阿里云短信未配置完整（AccessKey、签名或该类消息的模板编号）", retry=False)
    params = {
        "AccessKeyId": cfg.key_id, "Action": "SendSms", "Format": "JSON", "RegionId": "cn-hangzhou",
        "SignatureMethod": "HMAC-SHA1", "SignatureNonce": uuid.uuid4().hex, "SignatureVersion": "1.0",
        "Timestamp": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "Version": "2017-05-25",
        "PhoneNumbers": msg.recipient, "SignName": cfg.sign_name, "TemplateCode": code,
        "TemplateParam": json.dumps(msg.params, ensure_ascii=False), "OutId": msg.idem_key,
    }
    endpoint = (cfg.endpoint or ALIYUN_ENDPOINT).rstrip("/") + "/"
    got = _call("GET", endpoint + "?" + aliyun_signed_query(params, cfg.secret))
    if isinstance(got, Result):
        return got
    status, data = got
    if status == 200 and data.get("Code") == "OK":
        return Result(True, ref=str(data.get("BizId", "")))
    err = f"HTTP {status} {data.get('Code', '')} {data.get('Message', '')}".strip()
    return Result(False, error=err, retry=status >= 500 or status == 429 or data.get("Code") not in ALIYUN_PERMANENT)


# --- WeChat template messages -----------------------------------------------------------------------

_tokens: dict = {}
_token_lock = threading.Lock()


def _wechat_token(cfg, endpoint: str, fresh: bool = False) -> str | Result:
    key = (endpoint, cfg.key_id, hashlib.sha256(cfg.secret.encode()).hexdigest())
    with _token_lock:
        got = _tokens.get(key)
        if got and not fresh and got[1] > time.monotonic():
            return got[0]
    q = urllib.parse.urlencode({"grant_type": "client_credential", "appid": cfg.key_id, "secret": cfg.secret})
    res = _call("GET", f"{endpoint}/cgi-bin/token?{q}")
    if isinstance(res, Result):
        res.uncertain = False   # no message went out yet
        return res
    status, data = res
    if status != 200 or not data.get("access_token"):
        return Result(False, error=f"获取 access_token 失败：HTTP {status} {data.get('errcode', '')} {data.get('errmsg', '')}",
                      retry=status >= 500 or status == 429 or data.get("errcode") == -1)
    with _token_lock:
        _tokens[key] = (data["access_token"], time.monotonic() + int(data.get("expires_in", 7200)) - 300)
    return data["access_token"]


def send_wechat(cfg, msg, tmpl) -> Result:
    template_id = (tmpl.wechat_template_id if tmpl is not None else "") or ""
    if not (cfg.key_id and cfg.secret and template_id):
        return Result(False, error="微信模板消息未配置完整（AppID、AppSecret 或该类消息的模板 ID）", retry=False)
    endpoint = (cfg.endpoint or WECHAT_ENDPOINT).rstrip("/")
    payload = {"touser": msg.recipient, "template_id": template_id, "client_msg_id": msg.idem_key[:64],
               "data": {"first": {"value": msg.body}, **{k: {"value": v} for k, v in msg.params.items()}}}
    for fresh in (False, True):
        token = _wechat_token(cfg, endpoint, fresh)
        if isinstance(token, Result):
            return token
        got = _call("POST", f"{endpoint}/cgi-bin/message/template/send?access_token={urllib.parse.quote(token)}",
                    json.dumps(payload, ensure_ascii=False).encode(), {"Content-Type": "application/json; charset=utf-8"})
        if isinstance(got, Result):
            return got
        status, data = got
        code = data.get("errcode")
        if status == 200 and code == 0:
            return Result(True, ref=str(data.get("msgid", "")))
        if code in (40001, 40014, 42001) and not fresh:
            continue    # the token expired or was replaced: once more with a new one
        return Result(False, error=f"HTTP {status} {code} {data.get('errmsg', '')}",
                      retry=status >= 500 or status == 429 or code not in WECHAT_PERMANENT)
    return Result(False, error="access_token 无效")
