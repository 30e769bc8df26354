"""Command-line entry points: `flask --app wsgi worker`, `seed-demo`, `create-platform-admin`."""
from __future__ import annotations

import click
from flask import current_app

from .extensions import db


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
