"""Demo back-office accounts, one per role (two for the roles that approve each other's work), enrolled with fixed TOTP secrets (README names them). Demo only:
never created under a production configuration, and refused at login there (auth.authenticate)."""
from flask import current_app
from sqlalchemy import select

from app.admin import auth as staff_auth
from app.admin.models import AdminStaff, AdminStaffRole
from app.extensions import db

PASSWORD = "demo-backoffice-2026"
ACCOUNTS = [  # username, name, role, TOTP secret (base32)
    ("admin-demo", "演示管理员", "admin", "ADMINDEMOADMINDEMOADMINDEMOADMIN"),
    ("ops-demo", "演示运营", "ops", "OPERATIONSDEMOOPERATIONSDEMOOPER"),
    ("compliance-demo", "演示合规", "compliance", "COMPLIANCEDEMOCOMPLIANCEDEMOCOMP"),
    ("merchant-demo", "演示商户管理", "merchant", "MERCHANTSDEMOMERCHANTSDEMOMERCHA"),
    ("support-demo", "演示客服", "support", "SUPPORTDEMOSUPPORTDEMOSUPPORTDEM"),
    ("claims-demo", "演示理赔", "claims", "CLAIMSDEMOCLAIMSDEMOCLAIMSDEMOCL"),
    ("review-demo", "演示审核", "moderation", "REVIEWDEMOREVIEWDEMOREVIEWDEMORE"),
    # A second operator and a second compliance officer: what one prepares, the other approves (maker–checker).
    ("ops-checker-demo", "演示运营复核", "ops", "OPSCHECKERDEMOOPSCHECKERDEMOOPSC"),
    ("compliance-checker-demo", "演示合规复核", "compliance", "COMPLIANCECHECKERDEMOCOMPLIANCEC"),
]


def seed_demo_staff(now):
    """Idempotent: only missing accounts are created. Returns how many; None under production."""
    if current_app.config["APP_ENV"] == "production":
        return None
    existing = set(db.session.scalars(select(AdminStaff.username).where(
        AdminStaff.username.in_([a[0] for a in ACCOUNTS]))))
    created = 0
    password_hash = None
    for username, name, role, secret in ACCOUNTS:
        if username in existing:
            continue
        password_hash = password_hash or staff_auth.hash_password(PASSWORD)
        staff = AdminStaff(username=username, display_name=name, password_hash=password_hash,
                           must_change_password=False, totp_secret=secret, session_token=staff_auth.new_session_token(),
                           is_demo=True, created_at=now)
        staff.role_rows = [AdminStaffRole(role=role)]
        db.session.add(staff)
        created += 1
    return created
