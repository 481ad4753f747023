"""Resampling to weeks and the history readers (csv, m5, olist) on small files written here."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import numpy as np
import pytest

from pricing import PriceHistoryError, read_history, weekly

SHARED_PRICES = Path(__file__).resolve().parents[3] / "shared" / "data" / "prices"


def test_weekly_carries_the_last_price_forward_and_last_observation_in_a_week_wins() -> None:
    obs = [
        (date(2024, 1, 1), 10.0),  # Monday, week ending Sun 7 Jan
        (datetime(2024, 1, 3, 18, 0), 9.0),  # same week, later: wins
        (date(2024, 1, 2), 11.0),  # same week, earlier than the 9.0 (input order does not matter)
        (date(2024, 1, 24), 12.0),  # nothing in the weeks of 14 Jan: 9.0 carried
    ]
    s = weekly(obs, key="p")
    assert [str(d) for d in s.dates] == ["2024-01-07", "2024-01-14", "2024-01-21", "2024-01-28"]
    assert s.prices.tolist() == [9.0, 9.0, 9.0, 12.0]


def test_weekly_extends_to_today_and_ignores_bad_prices() -> None:
    s = weekly(
        [(date(2024, 1, 1), 5.0), (date(2024, 1, 2), -1.0), (date(2024, 1, 9), float("nan"))],
        until=date(2024, 1, 20),
    )
    assert s.prices.tolist() == [5.0, 5.0, 5.0]
    assert str(s.dates[-1]) == "2024-01-21"


def test_equal_timestamps_keep_input_order() -> None:
    s = weekly([(date(2024, 1, 1), 5.0), (date(2024, 1, 1), 6.0)])
    assert s.prices.tolist() == [6.0]


def test_csv_reader_counts_bad_rows_and_reads_competitors(tmp_path: Path) -> None:
    f = tmp_path / "h.csv"
    f.write_text(
        "product_id,date,price,comp_1\n"
        "a,2024-01-01,10,11\n"
        "a,2024-01-15,8,\n"
        "a,not a date,9,9\n"
        "b,2024-01-03,0,5\n"
        "b,2024-01-04,3.5,4\n"
    )
    h = read_history(f, "csv")
    assert (h.rows, h.bad_rows) == (5, 2)
    assert "line 4" in h.problems[0]
    by_key = {s.key: s for s in h.series}
    assert by_key["a"].prices.tolist() == [10.0, 10.0, 8.0]
    assert by_key["a"].competitors is not None
    assert by_key["a"].competitors[:, 0].tolist() == [11.0, 11.0, 11.0]  # missing competitor price: carried
    assert by_key["b"].prices.tolist() == [3.5]


def _m5_files(tmp_path: Path) -> tuple[Path, Path]:
    cal = tmp_path / "m5_calendar.csv"
    lines = [
        "date,wm_yr_wk,weekday,wday,month,year,d,event_name_1,event_type_1,event_name_2,event_type_2,"
        "snap_CA,snap_TX,snap_WI"
    ]
    day0 = np.datetime64("2011-01-29")
    for i in range(21):
        day = day0 + np.timedelta64(i, "D")
        wk = 11101 + i // 7
        event = "SuperBowl" if i == 8 else ""
        snap = 1 if i in (3, 4, 10) else 0
        lines.append(f"{day},{wk},x,1,1,2011,d_{i + 1},{event},,,,{snap},0,0")
    cal.write_text("\n".join(lines) + "\n")
    prices = tmp_path / "prices.csv"
    prices.write_text(
        "store_id,item_id,wm_yr_wk,sell_price\n"
        "CA_1,A,11101,2.0\nCA_1,A,11103,1.5\nCA_1,B,11102,4\nCA_1,B,11199,4\nCA_1,B,11103,oops\n"
    )
    return prices, cal


def test_m5_reader_joins_the_calendar_for_dates_and_events(tmp_path: Path) -> None:
    prices, cal = _m5_files(tmp_path)
    h = read_history(prices, "m5", cal)
    assert h.bad_rows == 2  # unknown week, unreadable price
    a = next(s for s in h.series if s.key == "A")
    assert [str(d) for d in a.dates] == ["2011-02-04", "2011-02-11", "2011-02-18"]  # week ends (Friday)
    assert a.prices.tolist() == [2.0, 2.0, 1.5]  # the gap week carries the price
    assert a.events is not None and a.event_names == ("snap", "event")
    assert a.events[0].tolist() == pytest.approx([2 / 7, 0.0])
    assert a.events[1].tolist() == pytest.approx([1 / 7, 1 / 7])
    assert a.item == "A"


def test_m5_reader_keys_each_store_and_keeps_the_item_shared(tmp_path: Path) -> None:
    prices, cal = _m5_files(tmp_path)
    prices.write_text(prices.read_text() + "TX_1,A,11101,2.1\nTX_1,A,11102,2.1\n")
    h = read_history(prices, "m5", cal)
    by_key = {s.key: s for s in h.series}
    assert set(by_key) == {"CA_1/A", "CA_1/B", "TX_1/A"}
    assert by_key["CA_1/A"].item == by_key["TX_1/A"].item == "A"
    ca, tx = by_key["CA_1/A"].events, by_key["TX_1/A"].events
    assert ca is not None and tx is not None
    assert ca[0, 0] == pytest.approx(2 / 7) and tx[0, 0] == 0.0  # each store reads its own state's SNAP days


def test_m5_reader_finds_the_calendar_beside_the_prices(tmp_path: Path) -> None:
    prices, _ = _m5_files(tmp_path)
    assert len(read_history(prices, "m5").series) == 2


def test_olist_reader_reads_months_and_competitors(tmp_path: Path) -> None:
    f = tmp_path / "olist.csv"
    f.write_text(
        "product_id,month_year,unit_price,holiday,comp_1,comp_2\n"
        "x,01-01-2017,10,1,12,9\n"
        "x,01-03-2017,8,0,12,9\n"
        "x,13-13-2017,8,0,12,9\n"
    )
    h = read_history(f, "olist")
    s = h.series[0]
    assert h.bad_rows == 1
    assert s.freq == "M" and s.season == 12
    assert [str(d) for d in s.dates] == ["2017-01-01", "2017-02-01", "2017-03-01"]
    assert s.prices.tolist() == [10.0, 10.0, 8.0]
    assert [str(d) for d in s.next_dates(2)] == ["2017-04-01", "2017-05-01"]


@pytest.mark.parametrize("fmt", ["csv", "m5", "olist"])
def test_a_file_that_is_not_a_price_history_is_one_clear_error(tmp_path: Path, fmt: str) -> None:
    f = tmp_path / "orders.csv"
    f.write_text("order_id,total\n1,20\n")
    (tmp_path / "m5_calendar.csv").write_text("date,wm_yr_wk,event_name_1\n2011-01-29,11101,\n")
    with pytest.raises(PriceHistoryError) as err:
        read_history(f, fmt)
    assert "not a" in str(err.value) and "\n" not in str(err.value)


def test_binary_and_missing_files_are_clear_errors(tmp_path: Path) -> None:
    f = tmp_path / "x.csv"
    f.write_bytes(b"\xff\xfe\x00\x81" * 10)
    with pytest.raises(PriceHistoryError):
        read_history(f, "csv")
    with pytest.raises(PriceHistoryError, match="no such file"):
        read_history(tmp_path / "missing.csv", "csv")


@pytest.mark.skipif(not (SHARED_PRICES / "olist_monthly_retail_price.csv").is_file(), reason="no shared data")
def test_real_olist_file_reads_every_product() -> None:
    h = read_history(SHARED_PRICES / "olist_monthly_retail_price.csv", "olist")
    assert len(h.series) == 52 and h.bad_rows == 0
    assert all(s.competitors is not None and s.competitors.shape[1] == 3 for s in h.series)
