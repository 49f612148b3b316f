"""`flask claims …`: the periodic jobs' work, run by hand."""
import click
from flask.cli import AppGroup

from app.claims import bp, jobs

commands = AppGroup("claims", help="Claims (理赔): deadlines, payouts, documents' keeping time.")
bp.cli.add_command(commands)


@commands.command("flag-overdue")
def flag_overdue():
    """Flag the claims past their deadline (a job does every 10 minutes)."""
    click.echo(f"Claims flagged overdue: {jobs.flag_overdue_claims.func()}.")


@commands.command("refresh-payouts")
def refresh_payouts():
    """Ask WeChat Pay about the transfers in flight (a job does every 5 minutes)."""
    click.echo(f"Payouts asked about: {jobs.refresh_payouts.func()}.")


@commands.command("purge-documents")
def purge_documents():
    """Delete the documents of finished claims past their keeping time (a job does daily)."""
    click.echo(f"Claim documents deleted: {jobs.purge_claim_documents.func()}.")
