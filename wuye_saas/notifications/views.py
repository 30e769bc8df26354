"""消息提醒 pages: the inbox (with the bell's count for the top bar), a person's preferences, and
the district admin's channel settings, message templates and outbox."""
from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from sqlalchemy import select

from .. import outbound, policy
from ..extensions import db
from ..web import current_membership, page_arg, render, save, tenant_blueprint
from . import logic, outbox, templates
from .forms import ChannelForm, PreferenceForm, TemplateForm
from .models import CHANNELS, OUTBOX_STATUSES, PROVIDERS, MessageTemplate, OutboxMessage, ProviderConfig

bp = tenant_blueprint("inbox", __name__, "/inbox")
PER_PAGE = 20
KIND_ARGS = ", ".join(templates.DEFAULTS)


@bp.app_context_processor
def _bell():
    def inbox_unread() -> int:
        m = g.get("membership")
        if m is None or g.get("tenant") is None:
            return 0
        if "inbox_unread" not in g:
            acting = g.get("acting")
            # A GET's count is the one read with the acting row (web._ACTING); a POST may have
            # just changed it.
            g.inbox_unread = (acting.inbox_unread if acting is not None and acting.membership_id == m.id
                              and request.method in ("GET", "HEAD") else logic.unread_count(m))
        return g.inbox_unread
    return {"inbox_unread": inbox_unread}


def _admin():
    if current_membership().role != policy.DISTRICT:
        abort(403)


@bp.route("/")
def index():
    m = current_membership()
    show = request.args.get("show") if request.args.get("show") in ("unread", "all") else "all"
    page = db.paginate(logic.items_select(m, show), page=page_arg(), per_page=PER_PAGE, error_out=False)
    return render("notifications/index.html", page=page, show=show, link=logic.link,
                  unread=logic.unread_count(m), labels=templates.INBOX_KINDS, is_admin=m.role == policy.DISTRICT)


def _own_or_404(item_id: int):
    item = logic.own_item(current_membership(), item_id)
    if item is None:
        abort(404)
    return item


@bp.route("/<int:inbox_item_id>/open", methods=["POST"])
def open_item(inbox_item_id):
    item = _own_or_404(inbox_item_id)
    logic.mark_read(item)
    db.session.commit()
    return redirect(logic.link(item) or url_for("inbox.index"))


@bp.route("/<int:inbox_item_id>/read", methods=["POST"])
def read(inbox_item_id):
    logic.mark_read(_own_or_404(inbox_item_id))
    db.session.commit()
    flash("已标为已读。", "success")
    return redirect(url_for("inbox.index", show=request.args.get("show") or None))


@bp.route("/read-all", methods=["POST"])
def read_all():
    n = logic.mark_all_read(current_membership())
    db.session.commit()
    flash(f"已将 {n} 条消息标为已读。" if n else "没有未读消息。", "success")
    return redirect(url_for("inbox.index"))


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    m = current_membership()
    pref = logic.preference(m)
    form = PreferenceForm(obj=pref) if request.method == "GET" else PreferenceForm()
    done = save(form, lambda: logic.save_preference(m, form.sms_kinds.data or [], form.wechat_kinds.data or [],
                                                    form.phone.data, form.wechat_openid.data),
                "提醒设置已保存。", url_for("inbox.settings"), refusals=(logic.InboxProblem,))
    if done is not None:
        return done
    status = 422 if request.method == "POST" else 200
    return render("notifications/settings.html", form=form, account_phone=m.user.phone), status


# --- the district admin: channels, templates, outbox ---------------------------------------------------

@bp.route("/channels")
def channels():
    _admin()
    configs = {c: outbox.config(c) for c in CHANNELS}
    return render("notifications/channels.html", configs=configs, channels=CHANNELS, providers=PROVIDERS)


@bp.route("/channels/<any(sms, wechat):channel>", methods=["GET", "POST"])
def channel(channel):
    _admin()
    cfg = outbox.config(channel)
    form = ChannelForm(obj=cfg) if request.method == "GET" else ChannelForm()
    if request.method == "GET":
        form.secret.data = ""

    def act():
        if form.provider.data not in ("log", "aliyun" if channel == "sms" else "wechat"):
            raise logic.InboxProblem("该渠道不能使用这个服务商。", "provider")
        if form.quiet_start.data == form.quiet_end.data and form.quiet_start.data != 0:
            raise logic.InboxProblem("免打扰开始与结束相同表示不设免打扰，请都填 0。", "quiet_end")
        if (form.endpoint.data or "").strip():
            try:
                outbound.check_url(form.endpoint.data.strip())
            except outbound.Refused as e:
                raise logic.InboxProblem(e.message, "endpoint") from None
        row = cfg if cfg.id else ProviderConfig(channel=channel)
        row.provider, row.endpoint, row.key_id = form.provider.data, (form.endpoint.data or "").strip(), \
            (form.key_id.data or "").strip()
        if form.secret.data:
            row.secret = form.secret.data.strip()
        row.sign_name = (form.sign_name.data or "").strip()
        row.rate_per_minute, row.quiet_start, row.quiet_end = (form.rate_per_minute.data, form.quiet_start.data,
                                                              form.quiet_end.data)
        db.session.add(row)
        db.session.flush()

    done = save(form, act, f"{CHANNELS[channel]}发送设置已保存。", url_for("inbox.channels"),
                refusals=(logic.InboxProblem,))
    if done is not None:
        return done
    return render("notifications/channel.html", form=form, cfg=cfg, channel=channel, channels=CHANNELS), \
        422 if request.method == "POST" else 200


@bp.route("/templates")
def template_list():
    _admin()
    own = {t.kind: t for t in db.session.execute(select(MessageTemplate)).scalars()}
    return render("notifications/templates.html", defaults=templates.DEFAULTS, own=own)


@bp.route(f"/templates/<any({KIND_ARGS}):kind>", methods=["GET", "POST"])
def template_edit(kind):
    _admin()
    tmpl = templates.own(kind)
    label, default, allowed = templates.DEFAULTS[kind]
    form = TemplateForm(obj=tmpl, data=None if tmpl else {"text": default}) if request.method == "GET" \
        else TemplateForm()

    def act():
        bad = templates.problem(kind, form.text.data or "")
        if bad:
            raise logic.InboxProblem(bad, "text")
        row = tmpl or MessageTemplate(kind=kind)
        row.text = form.text.data.strip()
        row.sms_template_code = (form.sms_template_code.data or "").strip()
        row.wechat_template_id = (form.wechat_template_id.data or "").strip()
        db.session.add(row)
        db.session.flush()

    done = save(form, act, f"“{label}”模板已保存。", url_for("inbox.template_list"), refusals=(logic.InboxProblem,))
    if done is not None:
        return done
    return render("notifications/template.html", form=form, kind=kind, label=label, default=default,
                  allowed=allowed), 422 if request.method == "POST" else 200


@bp.route("/outbox")
def outbox_list():
    _admin()
    status = request.args.get("status") if request.args.get("status") in OUTBOX_STATUSES else None
    page = db.paginate(outbox.messages_select(status), page=page_arg(), per_page=PER_PAGE, error_out=False)
    return render("notifications/outbox.html", page=page, status=status, statuses=OUTBOX_STATUSES,
                  channels=CHANNELS, labels={k: v[0] for k, v in templates.DEFAULTS.items()})


@bp.route("/outbox/<int:outbox_message_id>/resend", methods=["POST"])
def outbox_resend(outbox_message_id):
    msg = db.session.execute(select(OutboxMessage).where(
        OutboxMessage.id == outbox_message_id, policy.visible(current_membership(), OutboxMessage))).scalar_one_or_none()
    if msg is None:
        abort(404)   # the district's outbox is its admin's: nobody else sees a message of it
    _admin()
    if msg.status not in ("failed", "uncertain"):
        flash("只有发送失败或状态不明的消息可以重新发送。", "error")
        return redirect(url_for("inbox.outbox_list"))
    outbox.resend(msg)
    db.session.commit()
    flash("已重新排入发送队列。", "success")
    return redirect(url_for("inbox.outbox_list"))
