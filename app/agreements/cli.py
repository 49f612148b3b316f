"""`flask agreements publish`: a new version of an agreement from a Markdown file, published at once (the shell's
way; in the back office a version is drafted and approved by a colleague). The audit log records it."""
from datetime import date

import click

from app.agreements import bp, services, versions
from app.core.clock import db_now
from app.extensions import db

bp.cli.short_help = "Publish agreement versions."
bp.cli.name = "agreements"


def _date(_ctx, _param, value):
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise click.BadParameter("use YYYY-MM-DD") from error


@bp.cli.command("publish")
@click.option("--kind", required=True, type=click.Choice([kind for kind, _, _ in services.PLATFORM]))
@click.option("--version", "version", required=True)
@click.option("--released", required=True, callback=_date, help="YYYY-MM-DD, Asia/Shanghai")
@click.option("--effective", required=True, callback=_date, help="YYYY-MM-DD, Asia/Shanghai")
@click.option("--summary", default="", help="What changed, shown when users accept it again.")
@click.argument("text", type=click.File(encoding="utf-8"))
def publish(kind, version, released, effective, summary, text):
    """Publish TEXT (Markdown) as VERSION of the agreement KIND."""
    try:
        row = services.publish(kind, version, released, effective, summary, text.read(), db_now())
    except services.AgreementError as error:
        raise click.ClickException(error.message) from error
    versions.published_from_shell(row, db_now())
    db.session.commit()
    click.echo(f"Published 《{row.agreement.title}》 {row.version}: released {released}, effective {effective}.")
