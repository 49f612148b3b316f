"""Orders' jobs: close the orders left unpaid (at WeChat Pay first), so nobody has to look at them; once an
order is paid, close its other transactions; refund a second payment of an order."""
from datetime import timedelta

from flask import current_app

from app.core.clock import db_now
from app.jobs import crontab, job, periodic
from app.orders import services

REFUND_RETRY_MINUTES = [1, 5, 25, 125, 625]


@periodic(crontab(minute="*"))
def close_unpaid_orders():
    """Every minute: orders unpaid for ORDER_PAY_MINUTES (expire_if_due commits each)."""
    return services.close_expired(db_now())


@job()
def close_other_transactions(order_id):
    """Queued when a payment commits: the order's other transactions are closed at WeChat Pay."""
    services.close_other_transactions(order_id)


@job()
def refund_second_payment(attempt_id, tries=0):
    """Queued when a second payment of an order is recorded: its refund, at once; asked again after 1, 5, 25,
    125 and 625 minutes while WeChat Pay has not said it is done (its notification does, normally)."""
    if services.refund_second_payment(attempt_id):
        return
    if tries < len(REFUND_RETRY_MINUTES):
        refund_second_payment.enqueue_at(db_now() + timedelta(minutes=REFUND_RETRY_MINUTES[tries]), attempt_id,
                                         tries + 1)
    else:
        current_app.logger.error("The refund of payment attempt %s is still not confirmed: see flask orders "
                                 "settle-refunds", attempt_id)
