"""Payouts (赔款支付): a claim's approved amount paid to the claimant once, whatever is clicked or retried.

Two ways (PAYOUT_METHODS):

- wechat: the platform transfers to the claimant's WeChat balance (WeChat Pay's 商家转账到零钱), to the openid
  of our official account. The payout row is written first, in its own short transaction: the claim has one
  (a unique key), so a second click or a second handler finds it instead of making another. WeChat Pay is asked
  outside any write transaction, and what it answers is recorded by a conditional UPDATE on the status it
  leaves. The row's out_batch_no is the batch at WeChat Pay: after an error or a timeout it is sent again as it
  was (WeChat Pay answers with the batch it has, its documentation forbids a new number), never replaced while
  the transfer may still happen. A confirmed success pays the claim (已到账) in the same transaction. Only a
  failure WeChat Pay states (the detail FAIL, the batch CLOSED, a refusal) ends it; then the handler may transfer
  again (a new number, once WeChat Pay confirms the old batch paid nothing) or record the insurer's bank payment.
- bank: the insurer paid the claimant's bank card; recorded as paid at once.

    pending ──accepted──▶ processing ──SUCCESS──▶ paid (the claim 已到账 with it)
       │ (error, timeout: sent again)   └──FAIL, CLOSED──▶ failed ──▶ pending (a new batch) | paid (bank)
       └──refused──▶ failed

From 2,000 yuan WeChat Pay wants the payee's real name with the transfer (encrypted), which we do not send:
such amounts are paid by the insurer to the bank card.

Commits itself: each change in its own short write transaction, after WeChat Pay has answered.
"""
import re

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.auth.models import User
from app.claims import services
from app.claims.models import PAYOUT_METHODS, Claim, ClaimPayout
from app.claims.services import ClaimError
from app.core.database import begin_write
from app.extensions import db
from app.orders.services import payer_openid
from app.payments import PayError, pay_client
from app.payments.wechatpay import TRANSFER_CLOSE_REASONS, TRANSFER_FAIL_REASONS, TRANSFER_NAME_REQUIRED_FEN

PAID_BY = {"wechat": "微信零钱", "bank": "保险公司银行转账"}
WAITING = ("pending", "processing")
# What leaves a batch to be sent again under its own number: WeChat Pay not reached or not trusted, busy, short of
# funds or asked too often (its documentation: retry the same batch, never a new number).
TRY_AGAIN = ("NETWORK", "SIGNATURE", "UNKNOWN", "SYSTEM_ERROR", "NOT_ENOUGH", "FREQUENCY_LIMITED")


def payout_of(claim_id):
    return db.session.scalar(select(ClaimPayout).where(ClaimPayout.claim_id == claim_id))


def batch_number(claim, attempt):
    """The batch's out_batch_no: digits and letters only, as WeChat Pay requires (the claim's number and the
    attempt: LP…W1, LP…W2 after a confirmed failure)."""
    return f"{claim.number}W{attempt}"


def detail_number(payout):
    return payout.out_batch_no + "D1"


def _yuan(fen):
    return f"¥{fen / 100:,.2f}"


# Paying


def pay_out(claim, staff, method, now):
    """Pay the claim's approved amount by ``method`` (wechat | bank). Returns the payout as it stands: paid,
    or a transfer in progress (refresh() follows it) or failed (its failure says why). Raises ClaimError when
    the claim cannot be paid this way."""
    if method not in PAYOUT_METHODS:
        raise ClaimError("请选择支付方式", "method")
    payout = payout_of(claim.id)
    if payout is not None and payout.status == "paid":
        return payout
    if claim.status != "closed" or claim.decision not in ("approved", "partial") or not claim.approved_fen:
        raise ClaimError("只有已结案并核定赔付的案件可以支付", "method")
    if method == "bank":
        return _record_bank(claim, staff, now)
    if claim.approved_fen >= TRANSFER_NAME_REQUIRED_FEN:
        raise ClaimError(f"本案赔款 {_yuan(claim.approved_fen)}：微信零钱单笔转账须少于 {_yuan(TRANSFER_NAME_REQUIRED_FEN)}"
                         "（达到此金额须校验收款人实名），请由保险公司转账到申请人的银行卡，再登记为银行卡支付", "method")
    if payer_openid(db.session.get(User, claim.user_id)) is None:
        raise ClaimError("申请人没有用微信登录过本平台（公众号），无法转入微信零钱，请选择银行卡支付", "method")
    if payout is None:
        payout = _written(claim, staff, now)
    if payout.status == "failed" and payout.method == "wechat":
        _transfer_again(claim, payout, now)
    return refresh(payout.id, now)


def _written(claim, staff, now):
    """The claim's payout row, a WeChat transfer not yet sent, committed before WeChat Pay hears of it (of two
    requests at once, one writes it and both find it)."""
    claim_id, amount, out_batch_no = claim.id, claim.approved_fen, batch_number(claim, 1)
    begin_write()
    if payout_of(claim_id) is None:  # SQLite: under the write lock now
        db.session.add(ClaimPayout(claim_id=claim_id, method="wechat", amount_fen=amount, out_batch_no=out_batch_no,
                                   status="pending", created_at=now, created_by_id=staff.id))
        try:
            db.session.commit()
        except IntegrityError:  # PostgreSQL: another request wrote it at the same moment
            db.session.rollback()
    else:
        db.session.rollback()
    return payout_of(claim_id)


def _transfer_again(claim, payout, now):
    """A failed transfer tried again as a new batch, once WeChat Pay confirms the old one paid nothing."""
    _confirm_unpaid(payout, now)
    attempt = int(re.search(r"W(\d+)$", payout.out_batch_no).group(1)) + 1
    payout_id, out_batch_no = payout.id, batch_number(claim, attempt)
    begin_write()
    moved = db.session.execute(update(ClaimPayout).where(ClaimPayout.id == payout_id, ClaimPayout.status == "failed")
                               .values(status="pending", out_batch_no=out_batch_no, batch_id=None, failure="",
                                       completed_at=None)).rowcount
    db.session.commit()
    if not moved:  # another request retried it first
        db.session.expire_all()


def _confirm_unpaid(payout, now):
    """Raise ClaimError unless WeChat Pay says the payout's batch paid nothing (none, closed, or its detail
    failed); a batch it reports paid or still moving is recorded so."""
    try:
        answer = pay_client().query_transfer(payout.out_batch_no)
    except PayError as error:
        if error.code in ("NOT_FOUND", "RESOURCE_NOT_EXISTS"):
            return
        raise ClaimError("暂时无法向微信支付确认上一笔转账的结果，请稍后再试", "method") from None
    outcome = _outcome(payout, answer)
    if outcome is not None and outcome[0] == "failed":
        return
    _record(payout.id, outcome or ("processing", ""), now, sources=("failed",))
    raise ClaimError("上一笔微信零钱转账并未失败（微信支付显示已到账或仍在处理），请刷新页面查看", "method")


def _record_bank(claim, staff, now):
    """The insurer's payment to the bank card, recorded with the claim paid, in one transaction. A WeChat transfer
    in progress stands in the way; a failed one is replaced, once WeChat Pay confirms it paid nothing."""
    payout = payout_of(claim.id)
    if payout is not None and payout.status in WAITING:
        raise ClaimError("微信零钱转账正在处理中，不能再登记银行卡支付", "method")
    if payout is not None and payout.status == "failed":
        _confirm_unpaid(payout, now)
    claim_id, out_batch_no = claim.id, f"{claim.number}B"
    begin_write()
    payout = payout_of(claim_id)
    if payout is None:
        try:
            with db.session.begin_nested():
                db.session.add(ClaimPayout(claim_id=claim_id, method="bank", amount_fen=claim.approved_fen,
                                           out_batch_no=out_batch_no, status="paid", created_at=now,
                                           created_by_id=staff.id, completed_at=now))
        except IntegrityError:  # PostgreSQL: another request recorded it at the same moment
            db.session.rollback()
            return payout_of(claim_id)
    elif payout.status == "paid":
        db.session.rollback()
        return payout
    elif not db.session.execute(update(ClaimPayout).where(ClaimPayout.id == payout.id, ClaimPayout.status == "failed")
                                .values(method="bank", status="paid", completed_at=now)).rowcount:
        db.session.rollback()
        raise ClaimError("支付状态已经变化，请刷新页面查看", "method")
    try:
        services.paid(db.session.get(Claim, claim_id), now, PAID_BY["bank"])
    except ClaimError:
        db.session.rollback()
        raise
    db.session.commit()
    return payout_of(claim_id)


# Following a transfer


def refresh(payout_id, now):
    """Where a WeChat transfer stands, asked of WeChat Pay and recorded: a pending one is sent again (its own
    out_batch_no: the same batch), one in progress is queried. Returns the payout."""
    payout = db.session.get(ClaimPayout, payout_id)
    if payout is None or payout.method != "wechat" or payout.status not in WAITING:
        return payout
    if payout.status == "pending":
        _send(payout, now)
    else:
        _query(payout, now)
    db.session.expire_all()
    return db.session.get(ClaimPayout, payout_id)


def refresh_all(now):
    """The periodic job's work: every WeChat transfer not yet confirmed. Returns how many still wait."""
    waiting = db.session.scalars(select(ClaimPayout.id).where(ClaimPayout.method == "wechat",
                                                              ClaimPayout.status.in_(WAITING))
                                 .order_by(ClaimPayout.id)).all()
    return sum(1 for payout_id in waiting if refresh(payout_id, now).status in WAITING)


def _send(payout, now):
    claim = db.session.get(Claim, payout.claim_id)
    openid = payer_openid(db.session.get(User, claim.user_id))
    payout_id, out_batch_no = payout.id, payout.out_batch_no
    if openid is None:
        _record(payout_id, ("pending", "申请人的微信（公众号）身份已不在，无法转入微信零钱"), now, sources=("pending",))
        return
    try:
        answer = pay_client().transfer(out_batch_no=out_batch_no, out_detail_no=detail_number(payout),
                                       amount_fen=payout.amount_fen, openid=openid, batch_name="理赔款",
                                       remark=f"理赔款 {claim.number}")
    except PayError as error:
        if error.code in TRY_AGAIN:  # it may have been taken: the same batch is sent again later
            current_app.logger.warning("Transfer %s not accepted yet: %s", out_batch_no, error.code)
            _record(payout_id, ("pending", f"微信支付暂未受理（{error.code}），将以同一批次单号重试"), now,
                    sources=("pending",))
        else:
            current_app.logger.error("Transfer %s refused: %s %s", out_batch_no, error.code, error.message)
            _record(payout_id, ("failed", f"微信支付拒绝了转账：{error.message or error.code}（{error.code}）"), now,
                    sources=("pending",))
        return
    if answer.get("out_batch_no") != out_batch_no:
        current_app.logger.error("Transfer %s answered for batch %s", out_batch_no, answer.get("out_batch_no"))
        return
    _record(payout_id, ("processing", ""), now, sources=("pending",), batch_id=answer["batch_id"])
    if answer.get("batch_status") in ("FINISHED", "CLOSED"):  # sent again after it was done
        _query(db.session.get(ClaimPayout, payout_id), now)


def _query(payout, now):
    payout_id = payout.id
    try:
        answer = pay_client().query_transfer(payout.out_batch_no)
    except PayError as error:
        current_app.logger.warning("Query of transfer %s failed: %s", payout.out_batch_no, error.code)
        return
    outcome = _outcome(payout, answer)
    if outcome is not None and (outcome[0], payout.status, bool(payout.batch_id)) != ("processing", "processing", True):
        _record(payout_id, outcome, now, sources=WAITING, batch_id=(answer.get("transfer_batch") or {}).get("batch_id"))


def _outcome(payout, answer):
    """What WeChat Pay's answer about the payout's batch means: (status, failure), or None when it does not
    fit the payout (logged) or says nothing new."""
    batch = answer.get("transfer_batch") or {}
    settings = pay_client().settings
    if (batch.get("out_batch_no"), batch.get("total_amount"), batch.get("mchid"), batch.get("appid")) != (
            payout.out_batch_no, payout.amount_fen, settings.mchid, settings.appid):
        current_app.logger.error("Transfer %s: WeChat Pay's batch does not match the payout", payout.out_batch_no)
        return None
    detail = next((d for d in answer.get("transfer_detail_list") or () if d.get("out_detail_no") == detail_number(payout)),
                  {})
    if detail.get("detail_status") == "SUCCESS":
        return "paid", ""
    if detail.get("detail_status") == "FAIL":
        return "failed", "转账失败：" + _fail_reason(payout)
    if batch.get("batch_status") == "CLOSED":
        reason = TRANSFER_CLOSE_REASONS.get(batch.get("close_reason"), "原因未说明")
        return "failed", f"微信支付关闭了转账批次（{reason}）"
    return "processing", ""


def _fail_reason(payout):
    try:
        detail = pay_client().transfer_detail(payout.out_batch_no, detail_number(payout))
    except PayError:
        return "微信支付未说明原因"
    reason = detail.get("fail_reason")
    return TRANSFER_FAIL_REASONS.get(reason, reason or "微信支付未说明原因")


def _record(payout_id, outcome, now, *, sources, batch_id=None):
    """What WeChat Pay said, in one conditional UPDATE from ``sources``; paid, the claim is paid with it."""
    status, failure = outcome
    values = {"status": status, "failure": failure[:200]}
    if batch_id:
        values["batch_id"] = batch_id
    if status in ("paid", "failed"):
        values["completed_at"] = now
    begin_write()
    moved = db.session.execute(update(ClaimPayout).where(ClaimPayout.id == payout_id, ClaimPayout.status.in_(sources))
                               .values(values)).rowcount
    if moved and status == "paid":
        payout = db.session.get(ClaimPayout, payout_id)
        try:
            services.paid(db.session.get(Claim, payout.claim_id), now, PAID_BY["wechat"])
        except ClaimError:
            db.session.rollback()
            current_app.logger.error("Transfer %s succeeded but its claim could not be marked paid", payout.out_batch_no)
            return
    db.session.commit()
