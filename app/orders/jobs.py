"""Periodic: close the orders left unpaid (at WeChat Pay first), so nobody has to look at them."""
from app.core.clock import db_now
from app.jobs import crontab, periodic
from app.orders import services


@periodic(crontab(minute="*"))
def close_unpaid_orders():
    """Every minute: orders unpaid for ORDER_PAY_MINUTES (expire_if_due commits each)."""
    return services.close_expired(db_now())
