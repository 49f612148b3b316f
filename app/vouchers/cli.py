"""`flask partners stores` and `flask partners add-staff`: partner stores and their staff accounts."""
import click
from flask.cli import AppGroup

from app.core.clock import db_now
from app.extensions import db
from app.vouchers import bp
from app.vouchers import staff as staff_auth
from app.vouchers.models import PartnerStaff, Store

partner_commands = AppGroup("partners", help="Partner stores and their staff accounts.")
bp.cli.add_command(partner_commands)


@partner_commands.command("stores")
def partners_stores():
    """List the stores (with the id add-staff takes)."""
    for store in db.session.scalars(db.select(Store).order_by(Store.partner_id, Store.id)):
        click.echo(f"{store.id}\t{store.partner.name}\t{store.name}\t{store.city}")


@partner_commands.command("add-staff")
@click.option("--store", "store_id", type=int, required=True, help="The store's id (flask partners stores).")
@click.option("--username", required=True)
@click.option("--name", "display_name", required=True, help="The name shown on redemptions.")
@click.password_option(help="At least 10 characters; asked for when not given.")
def partners_add_staff(store_id, username, display_name, password):
    """Create a staff account for a partner store."""
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
