"""Admin commands: `flask seed-demo`, reminders, purges, orders, partners, promotions, the trail."""
from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup

from app.core.clock import db_now, today_local
from app.extensions import db


@click.command("seed-demo")
def seed_demo():
    """Fill the demo catalog (idempotent: only what is missing is created)."""
    from app.agreements.services import seed_platform_agreements
    from app.catalog.demo import seed_demo_catalog
    from app.purchase.car import seed_car_rates
    from app.vouchers.demo import seed_demo_partners
    today = today_local()
    created = seed_demo_catalog(today)
    # The first versions, released two weeks ago and in force for a week (release ≠ effective date).
    agreements = seed_platform_agreements(today - timedelta(days=14), today - timedelta(days=7), db_now())
    rates = seed_car_rates()
    partners = seed_demo_partners(today)
    db.session.commit()
    click.echo(f"Car rating tables: {rates} rows created." if rates else "Car rating tables already present.")
    click.echo(f"Demo catalog: {created} products created." if created else "Demo catalog already present.")
    click.echo(f"Agreements: {agreements} published." if agreements else "Agreements already published.")
    click.echo(f"Partners: {partners} created." if partners else "Partners already present.")


@click.group("reminders", cls=AppGroup)
def reminders():
    """断点续保 reminders."""


@reminders.command("send")
def reminders_send():
    """Remind once of applications idle for 30 minutes to 7 days (run by cron)."""
    from app.purchase.reminders import notifier, send_reminders
    sent = send_reminders(notifier(), db_now())
    click.echo(f"Reminders sent: {sent}.")


@click.group("applications", cls=AppGroup)
def applications():
    """Unfinished applications (breakpoints)."""


@applications.command("purge")
def applications_purge():
    """Delete unfinished applications idle for more than 30 days, personal data and all."""
    from app.purchase.reminders import purge
    removed = purge(db_now())
    db.session.commit()
    click.echo(f"Breakpoints deleted: {removed}.")


@click.group("orders", cls=AppGroup)
def orders():
    """Orders and their payment."""


@orders.command("close-expired")
def orders_close_expired():
    """Close orders unpaid for 30 minutes (at WeChat Pay first)."""
    from app.orders.services import close_expired
    closed = close_expired(db_now())
    click.echo(f"Closed {closed} unpaid order(s).")


@click.group("partners", cls=AppGroup)
def partners():
    """Partner stores and their staff accounts."""


@partners.command("stores")
def partners_stores():
    """List the stores (with the id add-staff takes)."""
    from app.vouchers.models import Store
    for store in db.session.scalars(db.select(Store).order_by(Store.partner_id, Store.id)):
        click.echo(f"{store.id}\t{store.partner.name}\t{store.name}\t{store.city}")


@partners.command("add-staff")
@click.option("--store", "store_id", type=int, required=True, help="The store's id (flask partners stores).")
@click.option("--username", required=True)
@click.option("--name", "display_name", required=True, help="The name shown on redemptions.")
@click.password_option(help="At least 10 characters; asked for when not given.")
def partners_add_staff(store_id, username, display_name, password):
    """Create a staff account for a partner store."""
    from app.vouchers import staff as staff_auth
    from app.vouchers.models import PartnerStaff, Store
    if db.session.get(Store, store_id) is None:
        raise click.UsageError(f"No store {store_id} (see: flask partners stores).")
    if len(password) < 10:
        raise click.UsageError("The password must have at least 10 characters.")
    if db.session.scalar(db.select(PartnerStaff.id).where(PartnerStaff.username == username)):
        raise click.UsageError(f"The username {username} is taken.")
    db.session.add(PartnerStaff(store_id=store_id, username=username, display_name=display_name,
                                password_hash=staff_auth.hash_password(password),
                                session_token=staff_auth.new_session_token(), created_at=db_now()))
    db.session.commit()
    click.echo(f"Staff account {username} created.")


@click.group("promotions", cls=AppGroup)
def promotions():
    """推广信息 (only to users who allow them)."""


@promotions.command("send")
@click.argument("title")
@click.option("--url", default="/offers", help="A path on this site the message links to.")
@click.option("--remark", default="", help="The message's closing line.")
def promotions_send(title, url, remark):
    """Send a promotional template message to every user who allows promotions."""
    from app.account import promotions as promos
    link = current_app.config["SITE_URL"].rstrip("/") + url
    sent = promos.send(promos.notifier(), title=title, url=link, remark=remark)
    click.echo(f"Promotions sent: {sent}.")


@click.group("trail", cls=AppGroup)
def trail():
    """The browsing trail (个性化推荐)."""


@trail.command("prune")
def trail_prune():
    """Delete the browsing trail older than 90 days (cron, daily)."""
    from app.catalog import trail as browsing
    removed = browsing.prune(db_now())
    db.session.commit()
    click.echo(f"Trail rows deleted: {removed}.")


def init_app(app):
    app.cli.add_command(seed_demo)
    app.cli.add_command(reminders)
    app.cli.add_command(applications)
    app.cli.add_command(orders)
    app.cli.add_command(partners)
    app.cli.add_command(promotions)
    app.cli.add_command(trail)
