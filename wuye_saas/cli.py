"""Command-line entry points: `flask --app wsgi worker`, `seed-demo`, `create-platform-admin`,
`publicity-keys`, `db-partitions`.

Thin: each parses its options, calls a plain function and commits once."""
from __future__ import annotations

import time

import click
from flask import current_app
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from .extensions import db, refresh_statistics


def register(app) -> None:
    @app.cli.command("worker")
    @click.option("--burst", is_flag=True, help="处理完队列中的任务后退出")
    @click.argument("queues", nargs=-1)
    def worker(burst: bool, queues: tuple[str, ...]):
        """Start an RQ worker inside the app context (needs REDIS_URL)."""
        from redis import Redis
        from rq import Queue, Worker

        url = current_app.config.get("REDIS_URL")
        if not url:
            raise click.ClickException("未设置 REDIS_URL：未配置 Redis 时任务在请求内直接执行，无需 worker。")
        conn = Redis.from_url(url)
        names = queues or current_app.config["RQ_QUEUES"]
        db.engine.dispose()  # each work horse opens its own connections
        Worker([Queue(n, connection=conn) for n in names], connection=conn).work(burst=burst)

    @app.cli.command("scheduler")
    @click.option("--once", is_flag=True, help="检查并启动一次到期的定时任务后退出")
    @click.option("--interval", type=click.IntRange(5, 3600), default=60, show_default=True,
                  help="两次检查之间的秒数")
    def scheduler(once: bool, interval: int):
        """Start the periodic jobs (逾期诉求升级、任期提醒、统计快照) when due, for every district."""
        from .jobs.schedule import run_due
        from .timeutil import now

        while True:
            started = run_due(now())
            if once:
                click.echo(f"已启动 {len(started)} 个定时任务。")
                return
            time.sleep(interval)

    @app.cli.command("db-partitions")
    @click.option("--ahead", type=click.IntRange(0, 120), default=24, show_default=True,
                  help="为本月起之后多少个月预建账单和审计日志的分区")
    @click.option("--archive-before", metavar="YYYY-MM", default=None,
                  help="把早于该月的分区分离（DETACH）并移到 archive 模式，供导出后删除")
    def db_partitions(ahead: int, archive_before: str | None):
        """PostgreSQL, run as the tables' owner: create the coming months' partitions of bill
        and audit_event (moving rows out of the DEFAULT partition) and archive old months."""
        from . import partitions
        from .fees.billing import BillingProblem, parse_month
        from .timeutil import today

        if db.engine.dialect.name != "postgresql":
            raise click.ClickException("仅 PostgreSQL 使用分区；SQLite 无需此命令。")
        try:
            before = parse_month(archive_before) if archive_before else None
        except BillingProblem as exc:
            raise click.BadParameter(str(exc), param_hint="--archive-before")
        # The tables' owner creates and detaches partitions (DATABASE_OWNER_URL when the
        # application connects as a role that owns nothing and sees no district outside a scope).
        owner_url = current_app.config.get("DATABASE_OWNER_URL")
        engine = create_engine(owner_url, poolclass=NullPool) if owner_url else db.engine
        this_month = today().replace(day=1)
        moved = []
        try:
            with engine.begin() as conn:
                made = partitions.ensure(conn, this_month, partitions.month_add(this_month, ahead))
                if before:
                    moved = partitions.archive(conn, before)
        except partitions.StillReferenced as exc:
            raise click.ClickException(str(exc))
        finally:
            if owner_url:
                engine.dispose()
        click.echo(f"新建分区 {len(made)} 个" + (f"：{', '.join(made)}" if made else ""))
        if before:
            click.echo(f"已归档 {len(moved)} 个" + (f"：{', '.join(moved)}" if moved else ""))

    @app.cli.command("seed-demo")
    @click.option("--slug", default="demo", show_default=True, help="演示区县的标识（网址 /d/<标识>/）")
    @click.option("--name", default="潞州区（演示）", show_default=True, help="演示区县名称")
    @click.option("--password", default="demo1234", show_default=True, help="演示账号的密码")
    @click.option("--compounds", type=click.IntRange(10, 5000), default=180, show_default=True,
                  help="小区数（测试可用较小的值）")
    @click.option("--households", type=click.IntRange(500, 1_000_000), default=36000, show_default=True,
                  help="住户数目标（按楼栋取整，实际略有出入）")
    @click.option("--bill-months", type=click.IntRange(0, 12), default=3, show_default=True,
                  help="为最近几个整月开具账单并生成缴费、补贴申领（至少覆盖上一季度；0 为不开具）")
    def seed_demo_command(slug, name, password, compounds, households, bill_months):
        """Create the demo district modelled on 长治市潞州区 (changes nothing if it exists)."""
        from .demo import seed

        started = time.perf_counter()
        try:
            result = seed.seed_demo(slug, name, password, compounds, households)
        except seed.DemoExists as exc:
            db.session.rollback()
            # Exit 0: scripts/demo.sh runs this on every start.
            click.echo(f"演示区县“{exc}”已存在，未做任何修改。")
            return
        except seed.SetupProblem as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from exc
        db.session.commit()
        from .demo import remember_accounts
        remember_accounts(current_app.instance_path, slug, name, password, result.accounts)
        refresh_statistics()     # billing plans its household queries from them
        db.session.commit()
        if bill_months:
            from .demo.fees import bill_recent_months
            money = bill_recent_months(result.tenant_id, bill_months)
            result.counts.update(money)
        from .demo.publicity import seed_publicity
        result.counts.update(seed_publicity(result.tenant_id, result.demo_compound_id, result.demo_firm_id))
        from .demo.committees import seed_committees
        result.counts.update(seed_committees(result.tenant_id, result.demo_compound_id, result.demo_firm_id))
        from .demo.demands import seed_demands
        result.counts.update(seed_demands(result.tenant_id, result.demo_compound_id, result.demo_firm_id))
        # The 12345 platform's API client, and two work orders it sends through the JSON API.
        db.session.commit()
        from .demo.api import seed_api
        api_counts, api_token = seed_api(result.tenant_id, result.demo_compound_id)
        result.counts.update(api_counts)
        from .demo.volunteers import seed_volunteers
        result.counts.update(seed_volunteers(result.tenant_id, result.demo_compound_id))
        from .demo.meetings import seed_meetings
        result.counts.update(seed_meetings(result.tenant_id, result.demo_compound_id, result.demo_firm_id))
        from .demo.fourlists import seed_fourlists
        result.counts.update(seed_fourlists(result.tenant_id, result.demo_compound_id, result.demo_firm_id))
        # The district's scoring standard in force, before the evaluation demos open cycles on it.
        from .demo.evaluation_standards import seed_standards
        result.counts.update(seed_standards(result.tenant_id))
        from .demo.evaluation_workflow import seed_evaluation_workflow
        result.counts.update(seed_evaluation_workflow(result.tenant_id, result.demo_compound_id, result.demo_firm_id,
                                                      current_app.config["UPLOAD_FOLDER"]))
        # After the evaluation workflow demo (its finished 季测评 and open 月抽查), before results.
        from .demo.evaluation_surveys import seed_surveys
        result.counts.update(seed_surveys(result.tenant_id, result.demo_compound_id))
        # Last: finalize, compute and publish the finished 季测评; one appeal by the demo firm.
        from .demo.evaluation_results import seed_results
        result.counts.update(seed_results(result.tenant_id, result.demo_firm_id))
        # After the published 季测评 (its lists' records): a year of staff records, an objection.
        from .demo.credit import seed_credit
        result.counts.update(seed_credit(result.tenant_id, result.demo_firm_id))
        # After the published lists (优先续约 on an expiring contract): filed, in review, returned.
        from .demo.contracts import seed_filings
        result.counts.update(seed_filings(result.tenant_id, result.demo_compound_id, result.demo_firm_id,
                                          current_app.config["UPLOAD_FOLDER"]))
        # An exit in handover, half signed; before the snapshots (its outgoing firm still serves).
        from .demo.exits import seed_exits
        result.counts.update(seed_exits(result.tenant_id, result.demo_compound_id, result.demo_firm_id))
        # After the credit file and the published lists: a tender with barred and red-listed firms.
        from .demo.hiring import seed_hiring
        result.counts.update(seed_hiring(result.tenant_id, result.demo_compound_id, result.demo_firm_id))
        # After every seeder whose changes told someone (their inbox items): read the old ones,
        # add the reminders, the 12345 client's webhook subscription and deliveries.
        from .demo.notifications import seed_notifications
        result.counts.update(seed_notifications(result.tenant_id, result.demo_compound_id, result.demo_firm_id,
                                                current_app.config["UPLOAD_FOLDER"]))
        # PostgreSQL plans from table statistics: refresh them after the bulk loads above (without
        # them a community's 缴费率 took minutes; docs/benchmarks.md "缴费率").
        db.session.commit()
        refresh_statistics()
        # Last: the monthly snapshots read everything the seeds above wrote.
        from .demo.indicators import seed_indicators
        result.counts.update(seed_indicators(result.tenant_id))
        db.session.commit()
        result.seconds = time.perf_counter() - started
        for line in seed.summary(result, name, password):
            click.echo(line)
        if api_token:
            click.echo("接口客户端“12345 市民热线平台”的令牌（只显示这一次，请妥善保存；遗失可在“接口客户端”页面轮换）：")
            click.echo(f"　{api_token}")

    @app.cli.command("credit-snapshot")
    @click.argument("slug")
    @click.option("--quarter-end", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                  help="季度末日期（YYYY-MM-DD）；默认为最近一个已结束的季度")
    def credit_snapshot_command(slug, quarter_end):
        """Keep every firm's credit grade at a quarter end (firms that have one keep it)."""
        from . import audit
        from .credit import grading
        from .tenancy import tenant_by_slug, tenant_scope
        from .timeutil import today

        tenant = tenant_by_slug(slug)
        if tenant is None:
            raise click.ClickException(f"区县“{slug}”不存在。")
        qe = quarter_end.date() if quarter_end else grading.last_finished_quarter_end(today())
        if qe != grading.quarter_end(qe) or qe >= today():
            raise click.ClickException(f"{qe:%Y-%m-%d} 不是已结束的季度末（3月31日、6月30日、9月30日或12月31日）。")
        with tenant_scope(tenant.id), audit.acting_as(None, "命令行"):
            written = grading.take_snapshot(qe)
            db.session.commit()
        click.echo(f"{tenant.name} {qe:%Y-%m-%d} 季度信用等级：新保存 {written} 家企业。")

    @app.cli.command("credit-sources")
    @click.argument("slug")
    @click.option("--on", "on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                  help="检查日期（YYYY-MM-DD）；默认为今天")
    def credit_sources_command(slug, on):
        """Credit records from the publicity schedule and demands (each written once)."""
        from . import audit
        from .credit import sources
        from .tenancy import tenant_by_slug, tenant_scope
        from .timeutil import today

        tenant = tenant_by_slug(slug)
        if tenant is None:
            raise click.ClickException(f"区县“{slug}”不存在。")
        day = on.date() if on else today()
        with tenant_scope(tenant.id), audit.acting_as(None, "命令行"):
            counts = sources.sync_all(day)
            db.session.commit()
        click.echo(f"{tenant.name} {day:%Y-%m-%d} 自动信用记录：公示 {counts['publicity']} 条，诉求 {counts['demands']} 条。")

    @app.cli.command("create-platform-admin")
    @click.argument("username")
    @click.option("--password", help="不提供时交互输入（需输入两次）")
    @click.option("--name", "display_name", default="平台管理员", show_default=True, help="显示名称")
    def create_platform_admin_command(username, password, display_name):
        """Create a platform administrator (manages districts; no district role)."""
        from .demo.seed import SetupProblem, create_platform_admin

        if password is None:
            password = click.prompt("密码", hide_input=True)
            if click.prompt("再次输入密码", hide_input=True) != password:
                raise click.ClickException("两次输入的密码不一致，未创建账号。")
        try:
            user = create_platform_admin(username, password, display_name)
        except SetupProblem as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from exc
        db.session.commit()
        click.echo(f"已创建平台管理员“{user.username}”。")

    @app.cli.group("publicity-keys")
    def publicity_keys():
        """公示签名密钥（Ed25519，保存在数据库之外的密钥目录）."""

    @publicity_keys.command("create")
    @click.argument("slug")
    @click.option("--env", "to_env", is_flag=True,
                  help="不写私钥文件，而是打印私钥，放入环境变量 WUYE_SIGNING_KEY_<SLUG>")
    def create_key_command(slug, to_env):
        """Create the district's signing key; with one already there, rotate: the new key signs
        from now on, the old public key stays trusted for old signatures, its private key file goes."""
        from .publicity import keys
        from .tenancy import system_scope, tenant_by_slug

        with system_scope():
            if tenant_by_slug(slug) is None:
                raise click.ClickException(f"没有标识为“{slug}”的区县。")
        old = [k.key_id for k in keys.trusted(slug).values() if k.retired_at is None]
        key, private = keys.create(slug, write_private=not to_env)
        click.echo(f"已创建签名密钥 {key.key_id}（指纹 {key.fingerprint}），自 {key.valid_from:%Y-%m-%d %H:%M} UTC 起签名。")
        if old:
            click.echo(f"已停用旧密钥 {'、'.join(old)}：其公钥保留，旧公示的签名仍可核验。")
        if to_env:
            name = "WUYE_SIGNING_KEY_" + slug.upper().replace("-", "_")
            click.echo(f"请把下面一行放入每个 Web 进程和 worker 的环境（不要写入数据库或代码库）：\n"
                       f"{name}={keys.env_value(key, private)}")

    @publicity_keys.command("list")
    @click.argument("slug")
    def list_keys_command(slug):
        """The district's trusted public keys (what the public board shows)."""
        from .publicity import keys

        found = keys.trusted(slug)
        if not found:
            click.echo(f"区县“{slug}”还没有签名密钥。")
        for k in found.values():
            state = f"{k.retired_at:%Y-%m-%d %H:%M} UTC 停用" if k.retired_at else "使用中"
            click.echo(f"{k.key_id}  {state}  自 {k.valid_from:%Y-%m-%d %H:%M} UTC  指纹 {k.fingerprint}")
