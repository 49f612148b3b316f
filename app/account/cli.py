"""`flask promotions send`: a promotional message to every user who allows them."""
import click
from flask import current_app
from flask.cli import AppGroup

from app.account import bp, promotions
from app.core.database import begin_write
from app.extensions import db

promotion_commands = AppGroup("promotions", help="推广信息 (only to users who allow them).")
bp.cli.add_command(promotion_commands)


@promotion_commands.command("send")
@click.argument("title")
@click.option("--url", default="/offers", help="A path on this site the message links to.")
@click.option("--remark", default="", help="The message's closing line.")
def promotions_send(title, url, remark):
    """Queue a promotional template message to every user who allows promotions (the jobs send them)."""
    link = current_app.config["SITE_URL"].rstrip("/") + url
    begin_write()  # recipients read and records written in one transaction; WeChat is called after it
    queued = promotions.send(title=title, url=link, remark=remark)
    db.session.commit()
    click.echo(f"Promotions queued: {queued}.")
