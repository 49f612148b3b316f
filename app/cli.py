"""`flask seed-demo`, which spans every capability. The other commands live on their capability's blueprint
(its cli.py); the periodic ones are also jobs (app/jobs)."""
from datetime import timedelta

import click

from app.core.clock import db_now, today_local
from app.extensions import db


@click.command("seed-demo")
def seed_demo():
    """Fill the demo catalog (idempotent: only what is missing is created)."""
    from app.admin.demo import seed_demo_staff
    from app.agreements.services import seed_platform_agreements
    from app.assistant.review import seed_review_terms
    from app.catalog.demo import seed_back_office_demo, seed_demo_catalog
    from app.purchase.car import seed_car_rates
    from app.vouchers.demo import seed_demo_partners
    today = today_local()
    created = seed_demo_catalog(today)
    # The first versions, released two weeks ago and in force for a week (release ≠ effective date).
    agreements = seed_platform_agreements(today - timedelta(days=14), today - timedelta(days=7), db_now())
    rates = seed_car_rates()
    partners = seed_demo_partners(today)
    staff = seed_demo_staff(db_now())
    db.session.flush()
    waiting = seed_back_office_demo(db_now())
    terms = seed_review_terms(db_now())
    db.session.commit()
    click.echo(f"Car rating tables: {rates} rows created." if rates else "Car rating tables already present.")
    click.echo(f"Demo catalog: {created} products created." if created else "Demo catalog already present.")
    click.echo(f"Agreements: {agreements} published." if agreements else "Agreements already published.")
    click.echo(f"Partners: {partners} created." if partners else "Partners already present.")
    click.echo("Back-office demo accounts: not created (production)." if staff is None else
               f"Back-office demo accounts: {staff} created." if staff else "Back-office demo accounts already present.")
    click.echo(f"Back-office demo work: {waiting} items waiting." if waiting else "Back-office demo work already present.")
    click.echo(f"Review term library: {terms} terms." if terms else "Review term library already present.")


def init_app(app):
    app.cli.add_command(seed_demo)
