"""`flask admin create-user` (the first administrator, or anyone while the back office is out of reach) and
`flask admin roles`."""
import click
from flask.cli import AppGroup

from app.admin import bp
from app.admin import staff as accounts
from app.admin.forms import USERNAME
from app.admin.roles import ROLES, role_code
from app.core.clock import db_now
from app.core.database import begin_write
from app.extensions import db

admin_commands = AppGroup("admin", help="Back-office staff accounts.")
bp.cli.add_command(admin_commands)


@admin_commands.command("roles")
def admin_roles():
    """List the roles (code, name, what they may do)."""
    for code, role in ROLES.items():
        click.echo(f"{code}\t{role.label}\t{role.description}")


@admin_commands.command("create-user")
@click.option("--username", required=True, help="3–40 lowercase letters, digits or . _ -")
@click.option("--name", "display_name", required=True, help="The name shown in the back office and its audit log.")
@click.option("--role", "roles", multiple=True, required=True, help="A role, by name (管理员) or code (admin); repeatable.")
@click.option("--ask-password", is_flag=True, help="Type the password (at least 10 characters) instead of getting a "
                                                   "one-time one.")
def admin_create_user(username, display_name, roles, ask_password):
    """Create a back-office account. Without --ask-password a one-time password is printed: the staff member
    replaces it at the first login, then enrols an authenticator app (TOTP)."""
    codes = [role_code(r) for r in roles]
    if None in codes:
        raise click.UsageError(f"Unknown role {roles[codes.index(None)]} (see: flask admin roles).")
    if not USERNAME.fullmatch(username):
        raise click.UsageError("The username takes 3–40 lowercase letters, digits or . _ - (a letter or digit first).")
    if not 1 <= len(display_name.strip()) <= 40:
        raise click.UsageError("The name takes 1–40 characters.")
    password = None
    if ask_password:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        if len(password) < 10 or username in password.lower():
            raise click.UsageError("The password must have at least 10 characters and not contain the username.")
    begin_write()
    try:
        staff, one_time = accounts.create(None, username=username, display_name=display_name.strip(), roles=codes,
                                          now=db_now(), ip="", password=password)
    except accounts.StaffError as error:
        raise click.UsageError(error.message) from None
    db.session.commit()
    click.echo(f"Back-office account {staff.username} created ({', '.join(staff.role_labels)}).")
    if one_time:
        click.echo(f"One-time password: {one_time}")
        click.echo("It is shown only now. At the first login at /admin the staff member sets a password of their own "
                   "and enrols an authenticator app.")
