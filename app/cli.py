"""Admin commands: `flask seed-demo`."""
import click

from app.core.clock import today_local
from app.extensions import db


@click.command("seed-demo")
def seed_demo():
    """Fill the demo catalog (idempotent: only what is missing is created)."""
    from app.catalog.demo import seed_demo_catalog
    created = seed_demo_catalog(today_local())
    db.session.commit()
    click.echo(f"Demo catalog: {created} products created." if created else "Demo catalog already present.")


def init_app(app):
    app.cli.add_command(seed_demo)
