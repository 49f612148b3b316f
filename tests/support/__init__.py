"""What the tests share: helpers (imported from here by the test modules, which never import each other) and
fixtures (registered once with ``pytest_plugins`` in tests/conftest.py).

- clock.py: the fixed clock the app runs on in tests (NOW, Clock, CLOCK)
- config.py: the test configuration (TEST_CONFIG) and a production one (production)
- web.py: the one CSRF token reader (token, and csrf_token to fetch a page for it), the htmx request
  header (HX), counting queries (count_queries)
- identity.py: valid Chinese ID numbers (id_number, fix_id) and the people of the tests (ME, KID, DAD,
  WIFE, SON, ADULT_ID, APPLICANT)
- agreements.py: the acceptance step (gate_form, accept, step_on, rows, accepted_user); fixture: customer
- wechat.py: the fake WeChat, a login's desktop and phone (Desktop, Phone), a minor's desktop and the
  guardian's phone (MinorDesktop, guardian_opens, approve), WeChat's user agent on a phone (PHONE_UA);
  fixtures: fake_wechat, wechat, desktop, phone
- purchase.py: an application filled in step by step (Buyer, MEDICAL), the premium a page shows, a good
  car quote (GOOD)
- pay.py: the fake WeChat Pay (merchant_config), orders and policies (place_order, paid_policy,
  order_row, policies), WeChat Pay's notifications (transaction, notification); fixtures: fake_pay, pay
- vouchers.py: offers, claims, partner staff and redemptions (claim, claimed_code, redeem, field,
  PASSWORD); fixtures: make_offer, staff_of
- notifications.py: users the fake WeChat reaches, an empty job queue; fixtures: reachable, empty_queue
- concurrency.py: work released in several threads at the same moment (at_once), a second request of
  the same browser (clone), the test client's login in a requests session (http_session)
- browser.py: steps in a real browser (Playwright) that several e2e tests take (accept_agreements,
  as_new_wechat_user, read_qr, fill_applicant, finish)
"""
import pkgutil

import pytest

# Their asserts report like a test's: rewritten by pytest, which does so by itself only for test modules,
# conftest files and plugins.
pytest.register_assert_rewrite(*(f"{__name__}.{module.name}" for module in pkgutil.iter_modules(__path__)))
