"""Price series on a regular grid, resampling of irregular observations, and history-file readers.

Everything downstream (forecasters, backtest, advice) works on :class:`PriceSeries`: one product's
prices on a regular weekly (or monthly) grid, oldest first, with the price *in force at the end* of
each period.  Shops record prices irregularly (a scrape, a price change, nothing for a month), so
:func:`weekly` carries the last observed price forward; that is what a shopper would have paid.

Readers never die on one bad row: they count and describe bad rows in :class:`History` and stop only
when a file is not a price history at all (:class:`PriceHistoryError`, one readable line).
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Literal, overload

import numpy as np
import numpy.typing as npt

__all__ = [
    "FORMATS",
    "History",
    "PriceHistoryError",
    "PriceSeries",
    "read_history",
    "weekly",
]

FloatArray = npt.NDArray[np.float64]
DateArray = npt.NDArray[np.datetime64]
Freq = Literal["W", "M"]
FORMATS = ("csv", "m5", "olist")
#: bad rows described in :attr:`History.problems` (the count covers all of them)
MAX_PROBLEMS = 5


class PriceHistoryError(ValueError):
    """The file is not a price history this reader understands (message is one line)."""


@dataclass(frozen=True)
class PriceSeries:
    """One product's prices on a regular grid, oldest first.

    ``dates`` are period ends (``datetime64[D]``); ``freq`` is ``"W"`` (7 days apart) or ``"M"``
    (month starts, as Olist reports them).  ``competitors`` holds competitor prices per period
    (``NaN`` = unknown) and ``events`` per-period calendar flags in ``[0, 1]`` (share of days with
    SNAP, a holiday, …) named by ``event_names``; both are optional because most shops have neither.
    """

    key: str
    dates: DateArray
    prices: FloatArray
    competitors: FloatArray | None = None
    events: FloatArray | None = None
    event_names: tuple[str, ...] = ()
    freq: Freq = "W"
    #: the product's group (department or category, "" when unknown): markdowns come in waves per
    #: department, so the forecaster reads how often the group has been marked down lately
    group: str = ""
    #: the product this series tracks when a panel holds several stores (M5: the item id), "" when the
    #: series is its own product.  One item's series in different stores are near copies of each other:
    #: the neural forecaster holds them out together and counts them once per training pass
    item: str = ""

    def __post_init__(self) -> None:
        n = len(self.prices)
        if len(self.dates) != n:
            raise ValueError(f"{self.key}: {len(self.dates)} dates for {n} prices")
        if n and not np.all(np.isfinite(self.prices) & (self.prices > 0)):
            raise ValueError(f"{self.key}: prices must be positive numbers")
        for name, extra in (("competitors", self.competitors), ("events", self.events)):
            if extra is not None and (extra.ndim != 2 or extra.shape[0] != n):
                raise ValueError(f"{self.key}: {name} must have one row per period")

    def __len__(self) -> int:
        return len(self.prices)

    @property
    def step_days(self) -> int:
        """Typical days between periods (7 or ~30), for dating forecasts."""
        return 7 if self.freq == "W" else 30

    @property
    def season(self) -> int:
        """Periods per year: the seasonal-naive lag."""
        return 52 if self.freq == "W" else 12

    def upto(self, index: int) -> PriceSeries:
        """The series as known at period ``index`` (inclusive): what a forecast at that origin may see."""
        end = index + 1
        return PriceSeries(
            key=self.key,
            dates=self.dates[:end],
            prices=self.prices[:end],
            competitors=None if self.competitors is None else self.competitors[:end],
            events=None if self.events is None else self.events[:end],
            event_names=self.event_names,
            freq=self.freq,
            group=self.group,
            item=self.item,
        )

    def next_dates(self, horizon: int) -> list[date]:
        """Dates of the ``horizon`` periods after the last one."""
        last: date = self.dates[-1].astype("datetime64[D]").item()
        if self.freq == "W":
            return [last + timedelta(days=7 * h) for h in range(1, horizon + 1)]
        out = []
        for h in range(1, horizon + 1):
            months = last.month - 1 + h
            out.append(date(last.year + months // 12, months % 12 + 1, 1))
        return out


@dataclass
class History(Sequence[PriceSeries]):
    """What a reader got from a file: the series (it is a sequence of them) plus an account of the
    rows it had to skip."""

    series: list[PriceSeries]
    rows: int = 0
    bad_rows: int = 0
    problems: list[str] = field(default_factory=list)

    @overload
    def __getitem__(self, index: int) -> PriceSeries: ...
    @overload
    def __getitem__(self, index: slice) -> list[PriceSeries]: ...
    def __getitem__(self, index: int | slice) -> PriceSeries | list[PriceSeries]:
        return self.series[index]

    def __len__(self) -> int:
        return len(self.series)

    def _bad(self, line: int, why: str) -> None:
        self.bad_rows += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(f"line {line}: {why}")


def _as_date(value: datetime | date) -> date:
    return value.date() if isinstance(value, datetime) else value


def _week_end(day: date) -> date:
    """The Sunday closing ``day``'s ISO week (a week runs Monday..Sunday)."""
    return day + timedelta(days=6 - day.weekday())


def weekly(
    observations: Iterable[tuple[datetime | date, float]],
    *,
    key: str = "",
    until: date | None = None,
    group: str = "",
) -> PriceSeries:
    """Resample irregular price observations to weeks ending on Sunday.

    Each week gets the price in force at its end: the last observation on or before that Sunday,
    carried forward through weeks without observations; several observations in one week → the
    latest wins (the input order breaks ties of equal timestamps).  ``until`` extends the grid to the
    week of that day, carrying the last price forward ("still this price today").  Non-positive or
    non-finite prices are ignored, as a shop's feed glitch would be.
    """
    obs = [
        (o[0] if isinstance(o[0], datetime) else datetime.combine(o[0], datetime.min.time()), float(o[1]))
        for o in observations
        if math.isfinite(float(o[1])) and float(o[1]) > 0
    ]
    if not obs:
        return PriceSeries(
            key, np.array([], dtype="datetime64[D]"), np.array([], dtype=np.float64), group=group
        )
    obs.sort(key=lambda o: o[0].replace(tzinfo=None))  # stable: equal timestamps keep input order
    first = _week_end(_as_date(obs[0][0]))
    last = _week_end(max(_as_date(obs[-1][0]), until or _as_date(obs[-1][0])))
    n_weeks = (last - first).days // 7 + 1
    prices = np.full(n_weeks, np.nan)
    for when, price in obs:
        prices[(_week_end(_as_date(when)) - first).days // 7] = price  # later observations overwrite
    prices = _carry_forward(prices)
    dates = np.array([first + timedelta(days=7 * i) for i in range(n_weeks)], dtype="datetime64[D]")
    return PriceSeries(key, dates, prices, group=group)


def _carry_forward(values: FloatArray) -> FloatArray:
    """Fill NaN with the last finite value before it (leading NaN stay NaN); works on 1-D or 2-D columns."""
    out = np.array(values, dtype=np.float64, copy=True)
    if out.ndim == 1:
        return _carry_forward(out[:, None])[:, 0]
    n = out.shape[0]
    idx = np.where(np.isfinite(out), np.arange(n)[:, None], 0)
    np.maximum.accumulate(idx, axis=0, out=idx)
    filled = out[idx, np.arange(out.shape[1])[None, :]]
    return np.asarray(filled, dtype=np.float64)


# --------------------------------------------------------------------------------------- readers


def read_history(path: Path | str, fmt: str = "csv", calendar: Path | str | None = None) -> History:
    """Read a price-history file into weekly (monthly for ``olist``) series.

    ``csv``: ``product_id,date,price[,category][,comp_1,…]`` (any dates; resampled to weeks).
    ``m5``: Walmart M5 ``store_id,item_id,wm_yr_wk,sell_price`` (the department is the item id less
    its number) joined with ``m5_calendar.csv`` (``calendar``, or the file of that name beside
    ``path``) for week dates and SNAP / event days.  ``olist``: one row per product-month
    (``product_id,month_year,unit_price,comp_1..3``, ``month_year`` as dd-mm-yyyy; the category is
    the group).
    """
    path = Path(path)
    if fmt not in FORMATS:
        raise PriceHistoryError(f"unknown format {fmt!r}; choose csv, m5 or olist")
    if not path.is_file():
        raise PriceHistoryError(f"{path}: no such file")
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = [h.strip() for h in next(reader, [])]
            if fmt == "csv":
                history = _read_csv(path, header, reader)
            elif fmt == "m5":
                history = _read_m5(path, header, reader, _calendar_path(path, calendar))
            else:
                history = _read_olist(path, header, reader)
    except UnicodeDecodeError:
        raise PriceHistoryError(f"{path}: not a text file") from None
    except csv.Error as exc:
        raise PriceHistoryError(f"{path}: not a CSV file ({exc})") from None
    if not history.series:
        raise PriceHistoryError(
            f"{path}: no usable price rows ({history.bad_rows} bad of {history.rows})"
            + (f"; first: {history.problems[0]}" if history.problems else "")
        )
    return history


def _require(path: Path, header: Sequence[str], fmt: str, needed: Sequence[str]) -> dict[str, int]:
    missing = [c for c in needed if c not in header]
    if missing:
        found = ",".join(header[:8]) or "nothing"
        found = found if len(found) <= 80 else found[:77] + "..."
        raise PriceHistoryError(
            f"{path}: not a price history in {fmt} format (needs columns {','.join(needed)}; found {found})"
        )
    return {name: i for i, name in enumerate(header)}


def _price(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and value > 0 else None


def _parse_day(text: str) -> date | None:
    text = text.strip()
    for parse in (date.fromisoformat, lambda t: datetime.fromisoformat(t).date()):
        try:
            return parse(text)
        except ValueError:
            continue
    return None


def _comp_columns(header: Sequence[str]) -> list[str]:
    return sorted((h for h in header if h.startswith("comp_") and h[5:].isdigit()), key=lambda h: int(h[5:]))


def _read_csv(path: Path, header: list[str], rows: Iterable[list[str]]) -> History:
    col = _require(path, header, "csv", ("product_id", "date", "price"))
    comps = _comp_columns(header)
    history = History(series=[])
    per: dict[str, list[tuple[date, float, list[float]]]] = defaultdict(list)
    groups: dict[str, str] = {}
    for line, row in enumerate(rows, start=2):
        history.rows += 1
        if len(row) < len(header):
            history._bad(line, f"{len(row)} fields, expected {len(header)}")
            continue
        key, day, price = (
            row[col["product_id"]].strip(),
            _parse_day(row[col["date"]]),
            _price(row[col["price"]]),
        )
        if not key or day is None or price is None:
            history._bad(line, "missing product_id, unreadable date or non-positive price")
            continue
        comp = [_price(row[col[c]]) or math.nan for c in comps]
        per[key].append((day, price, comp))
        if "category" in col and row[col["category"]].strip():
            groups[key] = row[col["category"]].strip()
    for key, obs in per.items():
        s = weekly([(d, p) for d, p, _ in obs], key=key)
        competitors = None
        if comps:
            grid = np.full((len(s), len(comps)), np.nan)
            start = s.dates[0].astype("datetime64[D]").item()
            for day, _, comp in sorted(obs, key=lambda o: o[0]):
                grid[(_week_end(day) - start).days // 7] = comp
            competitors = _carry_forward(grid)
        history.series.append(
            PriceSeries(
                key=key,
                dates=s.dates,
                prices=s.prices,
                competitors=competitors,
                freq="W",
                group=groups.get(key, ""),
            )
        )
    return history


def _calendar_path(path: Path, calendar: Path | str | None) -> Path:
    found = Path(calendar) if calendar is not None else path.with_name("m5_calendar.csv")
    if not found.is_file():
        raise PriceHistoryError(
            f"{found}: no such file (the m5 format needs m5_calendar.csv: pass --calendar)"
        )
    return found


@dataclass
class _M5Week:
    end: date
    snap: dict[str, int]
    event_days: int
    days: int


def _read_m5_calendar(path: Path) -> dict[int, _M5Week]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        needed = ("date", "wm_yr_wk", "event_name_1")
        if reader.fieldnames is None or any(c not in reader.fieldnames for c in needed):
            raise PriceHistoryError(f"{path}: not an m5 calendar (needs columns {','.join(needed)})")
        weeks: dict[int, _M5Week] = {}
        for row in reader:
            day = _parse_day(row["date"])
            try:
                wk = int(row["wm_yr_wk"])
            except ValueError:
                continue
            if day is None:
                continue
            week = weeks.setdefault(wk, _M5Week(day, defaultdict(int), 0, 0))
            week.end = max(week.end, day)
            week.days += 1
            week.event_days += bool(row.get("event_name_1"))
            for name, value in row.items():
                if name and name.startswith("snap_") and value == "1":
                    week.snap[name[5:]] += 1
    if not weeks:
        raise PriceHistoryError(f"{path}: the m5 calendar has no weeks")
    return weeks


def _m5_department(item: str) -> str:
    """M5 item ids are department + number (``FOODS_3_090`` → ``FOODS_3``)."""
    head, _, tail = item.rpartition("_")
    return head if head and tail.isdigit() else ""


def _read_m5(path: Path, header: list[str], rows: Iterable[list[str]], calendar: Path) -> History:
    col = _require(path, header, "m5", ("store_id", "item_id", "wm_yr_wk", "sell_price"))
    weeks = _read_m5_calendar(calendar)
    order = {wk: i for i, wk in enumerate(sorted(weeks))}
    history = History(series=[])
    per: dict[tuple[str, str], dict[int, float]] = defaultdict(dict)
    for line, row in enumerate(rows, start=2):
        history.rows += 1
        if len(row) < 4:
            history._bad(line, f"{len(row)} fields, expected 4")
            continue
        store, item = row[col["store_id"]].strip(), row[col["item_id"]].strip()
        price = _price(row[col["sell_price"]])
        try:
            wk = int(row[col["wm_yr_wk"]])
        except ValueError:
            wk = -1
        if not store or not item or price is None or wk not in order:
            history._bad(line, "missing id, week not in the calendar or non-positive price")
            continue
        per[(store, item)][order[wk]] = price
    stores = {s for s, _ in per}
    ordered_weeks = [weeks[wk] for wk in sorted(weeks)]
    for (store, item), by_week in per.items():
        first, last = min(by_week), max(by_week)
        prices = np.full(last - first + 1, np.nan)
        for i, price in by_week.items():
            prices[i - first] = price
        span = ordered_weeks[first : last + 1]
        state = store.split("_")[0]
        events = np.array(
            [[w.snap.get(state, 0) / max(w.days, 1), w.event_days / max(w.days, 1)] for w in span],
            dtype=np.float64,
        )
        history.series.append(
            PriceSeries(
                key=item if len(stores) == 1 else f"{store}/{item}",
                dates=np.array([w.end for w in span], dtype="datetime64[D]"),
                prices=_carry_forward(prices),
                events=events,
                event_names=("snap", "event"),
                freq="W",
                group=_m5_department(item),
                item=item,
            )
        )
    return history


def _read_olist(path: Path, header: list[str], rows: Iterable[list[str]]) -> History:
    col = _require(path, header, "olist", ("product_id", "month_year", "unit_price"))
    comps = _comp_columns(header)
    has_holiday = "holiday" in col
    history = History(series=[])
    per: dict[str, dict[date, tuple[float, list[float], float]]] = defaultdict(dict)
    groups: dict[str, str] = {}
    for line, row in enumerate(rows, start=2):
        history.rows += 1
        if len(row) < len(header):
            history._bad(line, f"{len(row)} fields, expected {len(header)}")
            continue
        key, price = row[col["product_id"]].strip(), _price(row[col["unit_price"]])
        try:
            d, m, y = (int(x) for x in row[col["month_year"]].split("-"))
            month = date(y, m, 1)
        except ValueError:
            history._bad(line, f"unreadable month_year {row[col['month_year']]!r} (want dd-mm-yyyy)")
            continue
        if not key or price is None:
            history._bad(line, "missing product_id or non-positive unit_price")
            continue
        holiday = 0.0
        if has_holiday:
            try:
                holiday = min(float(row[col["holiday"]]) / 4.0, 1.0)
            except ValueError:
                holiday = 0.0
        per[key][month] = (price, [_price(row[col[c]]) or math.nan for c in comps], holiday)
        if "product_category_name" in col:
            groups[key] = row[col["product_category_name"]].strip()
    for key, by_month in per.items():
        first, last = min(by_month), max(by_month)
        n = (last.year - first.year) * 12 + last.month - first.month + 1
        months = [
            date(first.year + (first.month - 1 + i) // 12, (first.month - 1 + i) % 12 + 1, 1)
            for i in range(n)
        ]
        prices = np.array([by_month[m][0] if m in by_month else np.nan for m in months])
        comp = np.array([by_month[m][1] if m in by_month else [np.nan] * len(comps) for m in months]).reshape(
            n, len(comps)
        )
        events = np.array([[by_month[m][2] if m in by_month else 0.0] for m in months])
        history.series.append(
            PriceSeries(
                key=key,
                dates=np.array(months, dtype="datetime64[D]"),
                prices=_carry_forward(prices),
                competitors=_carry_forward(comp) if comps else None,
                events=events if has_holiday else None,
                event_names=("holiday",) if has_holiday else (),
                freq="M",
                group=groups.get(key, ""),
            )
        )
    return history
