"""Users the fake WeChat can reach, and a queue with nothing left over from another test (the tests of
notifications and jobs use it for each of their tests). Fixtures: ``reachable``, ``empty_queue``."""
import secrets

import pytest

from app.auth.models import WeChatIdentity
from app.auth.simulator import SIM_APPID
from app.core.clock import db_now
from app.extensions import db


@pytest.fixture()
def empty_queue(app):
    """Nothing queued for later by an earlier test (its retries would call the fake WeChat too)."""
    app.extensions["jobs"].flush()


@pytest.fixture()
def reachable(app, member):
    """A signed-in user with an openid on the configured official account: ``.id``, ``.openid``."""
    def make(nickname="通知测试用户"):
        user = member(nickname=nickname)
        user.openid = f"o-notify-{secrets.token_hex(6)}"
        with app.app_context():
            db.session.add(WeChatIdentity(user_id=user.id, appid=SIM_APPID, openid=user.openid,
                                          created_at=db_now()))
            db.session.commit()
        return user
    return make
