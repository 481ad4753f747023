"""Prices in the service: history, buy-now-or-wait advice and price alerts.

``pricing/`` holds the models (series, forecasters, the advice rule); this module feeds them the
store's price history from the database and keeps the alerts.  An alert fires **exactly once**: the
sweep claims it with a conditional ``UPDATE … WHERE status = 'active'`` and writes the shopper's
notice in the same transaction, so repeated or concurrent sweeps and restarts cannot fire it twice;
the webhook (the store's mailer) is queued only after that transaction commits.
"""

from __future__ import annotations

import logging
import math
import secrets
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from assistant import commerce
from assistant._artifacts import ReloadingArtifact
from assistant.commerce._common import as_utc, iso
from assistant.db import Database
from assistant.errors import Conflict, InvalidRequest, NotFound, ProductNotFound
from assistant.models import PriceAlertRow, PriceHistoryRow, ProductRow, utcnow
from assistant.products import money

__all__ = [
    "ALERT_STATUSES",
    "MAX_ACTIVE_ALERTS",
    "Alert",
    "AlertNotFound",
    "AlertSweeper",
    "PriceAlreadyBelow",
    "PriceService",
    "SIMULATED_SOURCE",
    "SweepReport",
    "alert_is_due",
    "cancel_alert",
    "import_history",
    "create_alert",
    "list_alerts",
    "price_history",
    "seed_simulated_history",
    "sweep_alerts",
]

log = logging.getLogger("shopassist.prices")

ALERT_STATUSES: Final = ("active", "fired", "cancelled")
MAX_ACTIVE_ALERTS: Final = 50  # per session
SIMULATED_SOURCE: Final = "simulated"


class AlertNotFound(NotFound):
    code = "alert_not_found"

    def __init__(self, alert_id: str) -> None:
        super().__init__(f"no price alert {alert_id!r} in this session")


class PriceAlreadyBelow(Conflict):
    """The threshold is already met: an alert would fire at once, so none is made."""

    code = "price_already_below"


# ---------------------------------------------------------------------------- history


def price_history(s: Session, product_id: str) -> list[tuple[datetime, float]]:
    """The product's observed prices, oldest first (every ingest that changed the price, imports,
    and the demo's simulated past)."""
    rows = s.execute(
        select(PriceHistoryRow.observed_at, PriceHistoryRow.price)
        .where(PriceHistoryRow.product_id == product_id)
        .order_by(PriceHistoryRow.observed_at, PriceHistoryRow.id)
    ).all()
    return [(as_utc(t), float(p)) for t, p in rows]


def seed_simulated_history(db: Database, *, weeks: int = 104, seed: int = 0, end: date | None = None) -> int:
    """Give products that have a single observed price a simulated weekly past ending at that price.

    For the demo catalog, which has no real history: the simulation's parameters are summary
    statistics fitted to real shelf prices (``pricing/price_dynamics.json``).  Rows are marked
    ``source="simulated"`` and dated before the first real observation.  Returns rows added.
    """
    from pricing import simulate_history

    with db.session() as s:
        counts = dict(
            s.execute(
                select(PriceHistoryRow.product_id, func.count()).group_by(PriceHistoryRow.product_id)
            ).all()
        )
        firsts = dict(
            s.execute(
                select(PriceHistoryRow.product_id, func.min(PriceHistoryRow.observed_at)).group_by(
                    PriceHistoryRow.product_id
                )
            ).all()
        )
        rows = s.execute(select(ProductRow.id, ProductRow.price, ProductRow.currency)).all()
        todo = [(pid, float(price), cur) for pid, price, cur in rows if counts.get(pid, 0) <= 1]
        if not todo:
            return 0
        first_seen = min((as_utc(firsts[pid]) for pid, _, _ in todo if pid in firsts), default=utcnow())
        last_day = end or (first_seen - timedelta(days=1)).date()
        simulated = simulate_history(
            [(pid, price) for pid, price, _ in todo], weeks=weeks, end=last_day, seed=seed
        )
        currency = {pid: cur for pid, _, cur in todo}
        added = 0
        for pid, points in simulated.items():
            for day, price in points:
                s.add(
                    PriceHistoryRow(
                        product_id=pid,
                        price=round(float(price), 2),
                        currency=currency[pid],
                        observed_at=datetime(day.year, day.month, day.day, 12, tzinfo=first_seen.tzinfo),
                        source=SIMULATED_SOURCE,
                    )
                )
                added += 1
        return added


def import_history(
    db: Database, series: Sequence[Any], *, progress: Callable[[int, int], None] | None = None
) -> dict[str, Any]:
    """Store weekly price points of catalog products (``source="import"``); a point already stored for
    that product and day is skipped, so importing a file twice adds nothing."""
    added = existing = unknown = 0
    with db.session() as s:
        known = {pid: cur for pid, cur in s.execute(select(ProductRow.id, ProductRow.currency)).all()}
    for i, ser in enumerate(series, 1):
        pid = str(ser.key)
        if pid not in known:
            unknown += 1
            continue
        with db.session() as s:
            have = {
                as_utc(t).date()
                for t in s.scalars(
                    select(PriceHistoryRow.observed_at).where(PriceHistoryRow.product_id == pid)
                )
            }
            for d, price in zip(ser.dates, ser.prices, strict=True):
                day = date.fromisoformat(str(d)[:10])
                if day in have or not math.isfinite(float(price)) or float(price) <= 0:
                    existing += day in have
                    continue
                s.add(
                    PriceHistoryRow(
                        product_id=pid,
                        price=round(float(price), 2),
                        currency=known[pid],
                        observed_at=datetime(day.year, day.month, day.day, 12, tzinfo=UTC),
                        source="import",
                    )
                )
                have.add(day)
                added += 1
        if progress:
            progress(i, len(series))
    return {"series": len(series), "added": added, "existing": existing, "unknown_products": unknown}


class PriceService:
    """Price advice for one product, from its history and the forecaster in ``model_dir``.

    The forecaster reloads when ``shopassist train pricing`` writes a new one; without one the
    advice falls back to the baselines inside :func:`pricing.advise`.
    """

    def __init__(self, db: Database, model_dir: Path) -> None:
        self.db = db
        self.model_dir = model_dir
        # the forecaster writes config.json last (its weights first), so that is the file to watch
        self._model: ReloadingArtifact[Any] = ReloadingArtifact(
            model_dir, _load_forecaster, marker="config.json"
        )
        self._fallback: Any = None
        self._cache: dict[tuple[str, int, float], dict[str, Any]] = {}
        self._lock = threading.Lock()

    def forecaster(self) -> Any:
        """The trained forecaster, or until there is one the naive baseline with default panel rates."""
        model = self._model.get()
        if model is None:
            if self._fallback is None:
                from pricing import NaiveForecaster

                self._fallback = NaiveForecaster()
            model = self._fallback
        return model

    def history(self, product_id: str) -> tuple[ProductRow, list[tuple[datetime, float]]]:
        """The product and its observed prices, ending with today's catalog price whatever the log says
        (one read; ``ProductNotFound`` when unknown)."""
        with self.db.session() as s:
            row = s.get(ProductRow, product_id)
            if row is None:
                raise ProductNotFound(product_id)
            s.expunge(row)
            points = price_history(s, product_id)
        if not points or points[-1][1] != row.price:
            points = [*points, (utcnow(), float(row.price))]
        return row, points

    def advice(self, product_id: str, *, today: date | None = None) -> dict[str, Any]:
        """DESIGN.md's ``price_advice`` object for the product (``ProductNotFound`` when unknown)."""
        row, points = self.history(product_id)
        return self._advise(row, points, today)

    def report(
        self, product_id: str, *, weeks: int = 104
    ) -> tuple[dict[str, Any], str, list[dict[str, Any]]]:
        """Advice, currency and the weekly closing prices for the sparkline (``[{"date", "price"}]``,
        the last ``weeks``), from one read of the history."""
        from pricing import weekly

        row, points = self.history(product_id)
        series = weekly(points)
        history = [
            {"date": str(d), "price": round(float(p), 2)}
            for d, p in list(zip(series.dates, series.prices, strict=True))[-weeks:]
        ]
        return self._advise(row, points, None), row.currency, history

    def _advise(
        self, row: ProductRow, points: list[tuple[datetime, float]], today: date | None
    ) -> dict[str, Any]:
        from pricing import advise

        model = self.forecaster()
        key = (row.id, len(points), points[-1][1])
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None and today is None and cached.get("_model") is model:
            return {k: v for k, v in cached.items() if k != "_model"}
        out: dict[str, Any] = advise(
            row.id, points, model, today=today, currency=row.currency, group=row.category or ""
        )
        if today is None:
            with self._lock:
                if len(self._cache) > 10_000:
                    self._cache.clear()
                self._cache[key] = {**out, "_model": model}
        return out


def _load_forecaster(directory: Path) -> Any:
    from pricing import load_forecaster

    return load_forecaster(directory)


# ---------------------------------------------------------------------------- alerts


@dataclass(frozen=True)
class Alert:
    id: str
    session_id: str
    product_id: str
    price_max: float | None
    baseline_price: float
    currency: str
    email: str | None
    status: str
    created_at: datetime
    fired_at: datetime | None = None
    fired_price: float | None = None
    created: bool = True  # False when an identical active alert already existed

    def to_public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "session_id": self.session_id,
            "product_id": self.product_id,
            "price_max": self.price_max,
            "baseline_price": self.baseline_price,
            "currency": self.currency,
            "email": self.email,
            "status": self.status,
            "created_at": iso(self.created_at),
            "fired_at": iso(self.fired_at) if self.fired_at else None,
            "fired_price": self.fired_price,
        }


def _alert(row: PriceAlertRow, *, created: bool = True) -> Alert:
    return Alert(
        id=row.id,
        session_id=row.session_id,
        product_id=row.product_id,
        price_max=row.price_max,
        baseline_price=row.baseline_price,
        currency=row.currency,
        email=row.email,
        status=row.status,
        created_at=as_utc(row.created_at),
        fired_at=as_utc(row.fired_at) if row.fired_at else None,
        fired_price=row.fired_price,
        created=created,
    )


def alert_is_due(*, price: float, price_max: float | None, baseline_price: float) -> bool:
    """A threshold alert is due at or below the threshold; an "any drop" one below its baseline
    (the price when it was made) by at least a cent."""
    if price_max is not None:
        return price <= price_max + 1e-9
    return price <= baseline_price - 0.01 + 1e-9


def create_alert(
    s: Session,
    *,
    session_id: str,
    product_id: str,
    price_max: float | None = None,
    email: str | None = None,
) -> Alert:
    """Store an alert; the same active alert (session, product, threshold) is returned, not doubled.

    Raises ``PriceAlreadyBelow`` when the product already costs no more than ``price_max``.
    """
    commerce.get_session(s, session_id=session_id)
    product = s.get(ProductRow, product_id)
    if product is None or not product.active:
        raise ProductNotFound(product_id)
    if price_max is not None:
        if not isinstance(price_max, int | float) or not math.isfinite(price_max) or price_max <= 0:
            raise InvalidRequest("price_max must be a positive amount", code="invalid_price")
        price_max = round(float(price_max), 2)
        if product.price <= price_max:
            raise PriceAlreadyBelow(
                f"{product.title} already costs {product.price:.2f} {product.currency}, "
                f"at or below {price_max:.2f}"
            )
    if email is not None:
        email = commerce.validate_email(email)
    existing = s.scalars(
        select(PriceAlertRow).where(
            PriceAlertRow.session_id == session_id,
            PriceAlertRow.product_id == product_id,
            PriceAlertRow.status == "active",
            PriceAlertRow.price_max.is_(None) if price_max is None else PriceAlertRow.price_max == price_max,
        )
    ).first()
    if existing is not None:
        if email and existing.email != email:
            existing.email = email
        return _alert(existing, created=False)
    n_active = s.scalar(
        select(func.count())
        .select_from(PriceAlertRow)
        .where(PriceAlertRow.session_id == session_id, PriceAlertRow.status == "active")
    )
    if (n_active or 0) >= MAX_ACTIVE_ALERTS:
        raise Conflict(
            f"this conversation already has {MAX_ACTIVE_ALERTS} price alerts; cancel one first",
            code="too_many_alerts",
        )
    row = PriceAlertRow(
        id="alt_" + secrets.token_hex(8),
        session_id=session_id,
        product_id=product_id,
        price_max=price_max,
        baseline_price=float(product.price),
        currency=product.currency,
        email=email,
        status="active",
        created_at=utcnow(),
    )
    s.add(row)
    s.flush()
    return _alert(row)


def list_alerts(s: Session, *, session_id: str) -> list[Alert]:
    commerce.get_session(s, session_id=session_id)
    rows = s.scalars(
        select(PriceAlertRow)
        .where(PriceAlertRow.session_id == session_id)
        .order_by(PriceAlertRow.created_at, PriceAlertRow.id)
    ).all()
    return [_alert(r) for r in rows]


def cancel_alert(s: Session, *, session_id: str, alert_id: str) -> Alert:
    """Cancel an active alert (a fired or cancelled one is returned as it is)."""
    row = s.get(PriceAlertRow, alert_id)
    if row is None or row.session_id != session_id:
        raise AlertNotFound(alert_id)
    if row.status == "active":
        row.status = "cancelled"
        s.flush()
    return _alert(row)


@dataclass
class SweepReport:
    checked: int = 0
    fired: int = 0
    fired_ids: list[str] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"checked": self.checked, "fired": self.fired, "fired_ids": list(self.fired_ids or [])}


AlertSender = Callable[[str, str, dict[str, Any]], None]


def sweep_alerts(
    db: Database, *, webhook: Any = None, product_ids: Sequence[str] | None = None
) -> SweepReport:
    """Fire every active alert whose product's price is now due; each fires once, ever.

    Each alert is claimed in its own transaction (conditional update + notice), so a crash or a
    concurrent sweep leaves every alert either fired with its notice or still active.
    """
    report = SweepReport(fired_ids=[])
    with db.session() as s:
        q = (
            select(PriceAlertRow.id, PriceAlertRow.price_max, PriceAlertRow.baseline_price, ProductRow.price)
            .join(ProductRow, ProductRow.id == PriceAlertRow.product_id)
            .where(PriceAlertRow.status == "active", ProductRow.active.is_(True))
        )
        if product_ids is not None:
            q = q.where(PriceAlertRow.product_id.in_(list(product_ids)))
        candidates = s.execute(q).all()
    report.checked = len(candidates)
    for alert_id, price_max, baseline, price in candidates:
        if not alert_is_due(price=float(price), price_max=price_max, baseline_price=float(baseline)):
            continue
        fired = _fire(db, alert_id)
        if fired is None:
            continue  # another sweep got there first, or the price moved back meanwhile
        report.fired += 1
        assert report.fired_ids is not None
        report.fired_ids.append(fired[0].id)
        if webhook is not None:
            alert, payload = fired
            webhook.send("price_alert.fired", alert.id, payload)
    if report.fired:
        log.info("price alerts: %d fired of %d checked", report.fired, report.checked)
    return report


def _fire(db: Database, alert_id: str) -> tuple[Alert, dict[str, Any]] | None:
    with db.session() as s:
        row = s.get(PriceAlertRow, alert_id)
        if row is None:
            return None
        product = s.get(ProductRow, row.product_id)
        if product is None or not alert_is_due(
            price=float(product.price), price_max=row.price_max, baseline_price=row.baseline_price
        ):
            return None
        now = utcnow()
        claimed = s.execute(
            update(PriceAlertRow)
            .where(PriceAlertRow.id == alert_id, PriceAlertRow.status == "active")
            .values(status="fired", fired_at=now, fired_price=float(product.price))
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        s.refresh(row)
        price, cur = float(product.price), product.currency
        if row.price_max is not None:
            text = (
                f"Price alert: {product.title} is now {_money(price, cur)}, "
                f"at or below your {_money(row.price_max, cur)}."
            )
        else:
            text = (
                f"Price drop: {product.title} is now {_money(price, cur)} "
                f"(it was {_money(row.baseline_price, cur)} when you asked)."
            )
        data = {
            "alert_id": row.id,
            "product_id": product.id,
            "title": product.title,
            "price": price,
            "previous_price": row.baseline_price,
            "price_max": row.price_max,
            "currency": cur,
        }
        commerce.add_notice(s, session_id=row.session_id, kind="price_alert", text=text, data=data)
        alert = _alert(row)
        payload = {"alert": alert.to_public(), "product": data, "email": row.email}
    return alert, payload


def _money(amount: float, currency: str) -> str:
    return money(amount) if currency == "USD" else f"{amount:,.2f} {currency}"


class AlertSweeper:
    """The server's background sweep, every ``interval_s`` seconds (a daemon thread)."""

    def __init__(self, db: Database, *, interval_s: float, webhook: Any = None) -> None:
        self.db = db
        self.interval_s = interval_s
        self.webhook = webhook
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.interval_s <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="alert-sweeper", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                sweep_alerts(self.db, webhook=self.webhook)
            except Exception:  # the sweeper must survive a bad moment (database busy, …)
                log.exception("price alert sweep failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
