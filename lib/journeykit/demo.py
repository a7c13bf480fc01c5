"""A fictional client, generated: every canonical table over 24 months, with
the ground truth that produced it.

The demo client is a Korean coffee brand with a web shop, an app and a
subscription line. Its exports look like a real client's: ``orders.csv`` is
a CP949 Excel export with Korean headers, ``events.parquet`` uses the
client's own event names (and one it never mapped, ``APP_OPEN``), and
``customers.csv`` and ``surveys.csv`` carry fake personal data that the
loader must never let through.

What drives the data (each number is in :data:`PARAMS` and in ``truth.json``):

- **Awareness**: paid channels with different click-through rates and costs;
  daily sign-ups follow growth, month and weekday seasonality.
- **Consideration**: browse sessions whose funnel (product view → cart →
  checkout) drops off differently by device.
- **Purchase**: a first purchase whose probability depends on acquisition
  channel and device; then repeat purchases from a BG/NBD process (weekly
  Poisson rate λ ~ Gamma(r, α); after each repeat purchase the customer
  drops out with probability p ~ Beta(a, b)) and spend from a Gamma-Gamma
  process (ν ~ Gamma(q, rate v); each amount ~ Gamma(p, rate ν)), in the
  lifetimes parametrisation. Payments fail mostly on tablets (a failed
  attempt is a separate ``failed`` row just before the paid one); discount
  codes on first orders, sales and loyal customers.
- **Retention**: a customer's activity (app usage, browsing) stops when she
  drops out, and falls over the weeks before, while support tickets rise —
  so churn is visible in behaviour before it happens. A subscription line
  with 14-day trials, conversion to paid and monthly renewals.
- **Advocacy**: NPS driven by a customer's friction and her recent support
  experience; promoters share and refer, and referred customers sign up.
- **Campaigns**: welcome, monthly newsletters (A/B subject lines, varying
  send hour), win-back pushes and a Black Friday SMS; opens fall with
  message fatigue and for customers who have left.
- **Experiments**: ``checkout_redesign`` (B raises first-purchase
  conversion by a known relative lift) and ``free_shipping_banner`` (no
  effect, and a 53/47 assignment: a sample-ratio mismatch).

All timestamps are naive local time (Asia/Seoul). Customers are generated
in chunks of :data:`CHUNK` with one random stream per chunk, so memory is
bounded for the ``large`` size and the same seed writes byte-identical files.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

SIZES = {"tiny": 1_500, "demo": 20_000, "large": 1_000_000}
"""Customers per size: ``tiny`` for tests, ``demo`` for the demo report,
``large`` for benchmarks."""

CHUNK = 25_000
"""Customers generated (and held in memory) at a time."""

MONTHS = 24
DEFAULT_END = "2026-10"
"""The demo data's last month; the demo report's default period."""

GENERATOR_VERSION = 3
"""Bumped whenever the same seed would write different data."""

PLANTED_PII = ("hong.gildong@example.com", "010-9876-5432", "+82 10-2468-1357")
"""Personal data planted in the first rows of category values, the way real
exports carry it: a channel or page with a URL query
(``search?email=…&tel=…``), an event name and a campaign with one. The
loader masks it (:mod:`journeykit.core.privacy`: the query goes, so the value
becomes the plain ``search`` again and every count stays as it was); no
report, export or executed notebook may show it (the end-to-end tests
check)."""
_PLANT_QUERY = f"?email={PLANTED_PII[0]}&tel={PLANTED_PII[1]}"
_PLANT_OTHER = f"?utm_source=crm&phone={PLANTED_PII[2].replace(' ', '%20')}&contact={PLANTED_PII[2]}"

CHANNELS = ("search", "social", "display", "email", "organic", "referral")
PAID_CHANNELS = ("search", "social", "display", "email")
DEVICES = ("desktop", "mobile", "tablet")

# fmt: off
PARAMS: dict = {
    "acquisition": {
        "channel_share": {"search": 0.30, "social": 0.20, "display": 0.10, "email": 0.08,
                          "organic": 0.22, "referral": 0.10},
        "device_share": {"desktop": 0.40, "mobile": 0.50, "tablet": 0.10},
        "growth_first_to_last_month": [0.6, 1.4],
        "month_factor": {"1": 0.95, "2": 0.85, "3": 0.95, "4": 1.0, "5": 1.0, "6": 0.95,
                         "7": 0.9, "8": 0.9, "9": 1.0, "10": 1.05, "11": 1.3, "12": 1.25},
        "weekday_factor": [1.0, 1.0, 1.0, 1.05, 1.1, 1.2, 1.15],   # Monday first
        "country_share": {"KR": 0.90, "JP": 0.05, "US": 0.05},
    },
    "awareness": {   # per paid channel: click-through rate, cost per click (KRW), clicks per sign-up
        "ctr": {"search": 0.035, "social": 0.012, "display": 0.004, "email": 0.025},
        "cpc": {"search": 900.0, "social": 600.0, "display": 350.0, "email": 120.0},
        "clicks_per_signup": {"search": 25.0, "social": 60.0, "display": 110.0, "email": 30.0},
        "campaigns": {"search": ["brand_keywords", "generic_coffee"],
                      "social": ["insta_feed", "insta_story"],
                      "display": ["retargeting", "prospecting"],
                      "email": ["partner_newsletter"]},
        "platform_conversion_inflation": 1.15,
    },
    "consideration": {   # browse sessions: step probabilities, each given the previous step
        "product_view": {"desktop": 0.55, "mobile": 0.50, "tablet": 0.52},
        "add_to_cart": {"desktop": 0.30, "mobile": 0.18, "tablet": 0.25},
        "checkout_start": {"desktop": 0.55, "mobile": 0.40, "tablet": 0.45},
        "pricing_view": 0.20,
        "pages_per_session_mean": 1.5,
        "pre_signup_sessions_mean": 1.2,
        "anonymous_visitors_per_customer": 1.0,
        "browse_sessions_per_week": 0.15,
        "usage_sessions_per_week_mean": 0.25,
        "features_per_usage_session_mean": 1.0,
        "app_open_share_mobile": 0.5,
        "primary_device_share": 0.8,
    },
    "purchase": {
        "first_purchase_prob": {"search": 0.60, "social": 0.40, "display": 0.30, "email": 0.55,
                                "organic": 0.55, "referral": 0.70},
        "first_purchase_device_factor": {"desktop": 1.10, "mobile": 0.90, "tablet": 0.85},
        "days_to_first_purchase_mean": 4.0,
        "payment_failure_prob": {"desktop": 0.015, "mobile": 0.04, "tablet": 0.15},
        "discount": {"WELCOME10": 0.35, "SALE15": 0.12, "VIP20": 0.10},
        "items_extra_mean": 0.5,
        "amount_unit_krw": 1000,
    },
    "bgnbd": {"r": 1.2, "alpha": 2.7, "a": 0.7, "b": 5.0, "time_unit": "week"},
    "gamma_gamma": {"p": 6.0, "q": 4.0, "v": 15.0, "unit": "thousand KRW",
                    "note": "amounts are written in KRW (×1000, rounded to 100 KRW): v in KRW is v×1000"},
    "churn": {
        "non_purchaser_lifetime_days_mean": 90.0,
        "after_dropout_days_mean": 10.0,
        "usage_decline_days": 56.0,
        "usage_floor": 0.15,
        "friction_from_dropout_rank": 0.7,
        "ticket_rate_per_week": 0.01,
        "ticket_rate_friction_factor": 3.0,
        "ticket_boost_before_churn": 4.0,
        "ticket_boost_days": 45.0,
        "billing_ticket_after_failed_payment": 0.25,
    },
    "subscriptions": {
        "trial_share": 0.25, "trial_days": 14, "trial_start_days_mean": 10.0,
        "trial_conversion": 0.65, "trial_conversion_friction_penalty": 0.4,
        "plans": {"basic": 9900.0, "plus": 19900.0}, "plus_share": 0.4,
        "renewal_days": 30, "monthly_cancel_prob": 0.04,
    },
    "support": {
        "categories": {"delivery": 0.30, "billing": 0.15, "product": 0.25, "account": 0.15, "app": 0.15},
        "channels": {"chat": 0.5, "email": 0.3, "phone": 0.2},
        "resolution_hours_median": 6.0, "resolution_friction_factor": 1.5,
        "csat_response": 0.6,
    },
    "advocacy": {
        "satisfaction_base": 10.0, "satisfaction_friction": -3.5, "satisfaction_sd": 1.0,
        "nps_per_recent_ticket": -0.7, "nps_per_csat_point_below_5": -0.6, "nps_noise_sd": 1.0,
        "recent_ticket_days": 90,
        "survey_after_order": 0.12, "survey_after_ticket": 0.35, "survey_in_app": 0.01,
        "promoter_satisfaction": 9.0,
        "share_per_usage_session_promoter": 0.05,
        "refer_per_usage_session_promoter": 0.02,
        "review_after_order": 0.06, "review_after_order_satisfied": 0.04,
        "comment_share": 0.3,
    },
    "campaigns": {
        "open": {"email": 0.25, "push": 0.12, "sms": None},
        "click_given_open": {"email": 0.18, "push": 0.30},
        "click_sms": 0.05,
        "hour_factor": {"7": 0.9, "10": 1.15, "11": 1.1, "15": 0.85, "21": 1.2},
        "fatigue_per_message_30d": 0.9,
        "after_churn_factor": 0.35,
        "newsletter_reach": 0.35, "newsletter_variant_b_open_factor": 1.2,
        "newsletter_hours": [10, 21, 7],
        "winback_after_days": 60,
        "black_friday_reach": 0.5,
    },
    "experiments": {
        "checkout_redesign": {"variants": {"A": 0.5, "B": 0.5}, "relative_lift_first_purchase": 0.20,
                              "window_days": 61, "conversion_window_days": 14},
        "free_shipping_banner": {"variants": {"control": 0.53, "treatment": 0.47},
                                 "window_days": 31, "conversion_window_days": 14},
    },
}
# fmt: on

SCENARIOS = ("default", "stationary", "planted")
"""What :func:`generate` writes:

- ``default``: the demo client, with growth, seasonality, a rotating send
  hour and an experiment that lifts conversion — months differ for real;
- ``stationary``: the same shop with every process held constant (no growth,
  no month seasonality, one send-hour effect, no Black Friday or November
  sale, no experiment lift, and every customer leaves after an exponential
  lifetime of 120 days on average at the latest, so the customer base is at
  equilibrium; the weekly cycle and the day-to-day noise of the ad data
  stay): two consecutive months differ by chance only, so any change a
  report calls significant is a false alarm;
- ``planted``: the stationary shop with known changes in its last month
  (:data:`PLANTED`), which a report must flag in the right direction.
"""

PLANTED: dict = {
    "ctr_factor": 1.20,                                       # every paid channel's CTR × 1.20 (impressions fewer)
    "payment_failure": {"device": "mobile", "prob": 0.12},   # mobile payment failures 4% → 12%
    "nps_shift": -1.0,                                        # survey answers 1 point lower (0–10)
}
"""The changes of the ``planted`` scenario, in the last month of the data
only: a CTR shift, a payment-failure spike on one device, an NPS drop."""


def scenario_params(scenario: str = "default") -> dict:
    """The generating parameters of ``scenario`` (see :data:`SCENARIOS`): a
    copy of :data:`PARAMS` with the stationary settings for ``stationary``
    and ``planted``."""
    import copy

    if scenario not in SCENARIOS:
        raise ValueError(f"scenario must be one of {', '.join(SCENARIOS)}, got {scenario!r}")
    if scenario == "default":
        return PARAMS
    P = copy.deepcopy(PARAMS)
    acq = P["acquisition"]
    acq["growth_first_to_last_month"] = [1.0, 1.0]
    acq["month_factor"] = {k: 1.0 for k in acq["month_factor"]}
    P["campaigns"]["hour_factor"] = {k: 1.0 for k in P["campaigns"]["hour_factor"]}
    P["campaigns"]["black_friday_reach"] = 0.0
    P["purchase"]["november_sale_factor"] = 1.0
    P["experiments"]["checkout_redesign"]["relative_lift_first_purchase"] = 0.0
    # BG/NBD customers with a tiny dropout probability never leave, so the active base of the default
    # shop grows for ever (≈ 4% a month after two years); a finite lifetime puts it at equilibrium
    P["churn"]["lifetime_days_mean"] = 120.0
    return P

EVENT_NAMES = ("VISIT", "PAGE", "PDP", "PRICING", "CART", "CHECKOUT", "PURCHASE",
               "LOGIN", "FEATURE", "REVIEW", "SHARE", "REFER", "APP_OPEN")
(E_VISIT, E_PAGE, E_PDP, E_PRICING, E_CART, E_CHECKOUT, E_PURCHASE,
 E_LOGIN, E_FEATURE, E_REVIEW, E_SHARE, E_REFER, E_APP_OPEN) = range(len(EVENT_NAMES))
PAGES = ("/", "/menu", "/beans", "/subscription", "/story", "/stores", "/events", "/signup",
         "/pricing", "/cart", "/checkout", "/checkout/done",
         "/product/house-blend", "/product/single-origin", "/product/cold-brew", "/product/drip-bags",
         "/product/mug", "/product/gift-set")
P_PRODUCT0 = 12
FEATURES = ("order_ahead", "stamp_card", "gift", "subscription_manage", "store_locator", "recipes")
SESSION_CHANNELS = ("direct", "search", "email", "social", "push", "display", "organic", "referral")
HOURLY = np.array([1, .5, .3, .2, .2, .4, 1, 2.5, 4, 4.5, 4.5, 5, 6, 5, 4, 3.5, 3.5, 4, 5, 6, 6.5, 6, 4.5, 2.5])
HOURLY = HOURLY / HOURLY.sum()

_SURNAMES = "김이박최정강조윤장임한오서신권황안송류홍"
_GIVEN = ("민준", "서연", "도윤", "지우", "하준", "서윤", "은우", "지아", "시우", "하은", "지호", "수아",
          "예준", "지유", "유준", "채원", "건우", "윤서", "현우", "다은")
_ROMAN = ("minjun", "seoyeon", "doyun", "jiwoo", "hajun", "seoyun", "eunwoo", "jia", "siwoo", "haeun",
          "jiho", "sua", "yejun", "jiyu", "yujun", "chaewon", "geonwoo", "yunseo", "hyunwoo", "daeun")
_COMMENTS = ("배송이 빨라서 좋았어요", "원두 향이 좋아요", "앱 결제가 자꾸 실패해요", "상담원이 친절했어요",
             "가격이 조금 비싸요", "구독 해지가 어려웠어요", "Great coffee, fast delivery",
             "The app keeps logging me out", "연락 주세요 010-{a:04d}-{b:04d}", "매장 직원분이 최고예요")


@dataclass
class _Clock:
    """Time as float days since the first day of the data (naive local time)."""

    start: np.datetime64
    days: int

    def ts(self, t: np.ndarray, unit: str = "s") -> np.ndarray:
        # floor, not round: a time before the end of the data stays before it
        scale = 86400 * (1000 if unit == "ms" else 1)
        ticks = np.floor(np.asarray(t, float) * scale + 1e-6).astype(np.int64)
        return self.start.astype(f"datetime64[{unit}]") + ticks.astype(f"timedelta64[{unit}]")


def _month_bounds(end: str) -> tuple[dt.date, dt.date]:
    """First day of the data and the first day after it, for 24 months ending with ``end``."""
    try:
        y, m = (int(x) for x in end.split("-"))
        last = dt.date(y, m, 1)
    except (ValueError, AttributeError):
        raise ValueError(f"end must be a month like 2026-10, got {end!r}") from None
    k = y * 12 + (m - 1) - (MONTHS - 1)
    first = dt.date(k // 12, k % 12 + 1, 1)
    after = dt.date(y + (m == 12), m % 12 + 1, 1)
    del last
    return first, after


def _day_weights(first: dt.date, days: int, P: dict = PARAMS) -> np.ndarray:
    acq = P["acquisition"]
    dates = [first + dt.timedelta(days=i) for i in range(days)]
    g0, g1 = acq["growth_first_to_last_month"]
    growth = g0 + (g1 - g0) * np.arange(days) / max(days - 1, 1)
    month = np.array([acq["month_factor"][str(d.month)] for d in dates])
    wday = np.array([acq["weekday_factor"][d.weekday()] for d in dates])
    w = growth * month * wday
    return w / w.sum()


def _tod(rng: np.random.Generator, n: int) -> np.ndarray:
    """Time of day as a fraction of a day, from the hourly traffic profile."""
    return (rng.choice(24, size=n, p=HOURLY) + rng.random(n)) / 24.0


def _choice(rng, shares: dict, n: int) -> np.ndarray:
    p = np.array(list(shares.values()), float)
    return rng.choice(len(p), size=n, p=p / p.sum())


def _count_before(keys_sorted: np.ndarray, owner: np.ndarray, t: np.ndarray, window: float) -> np.ndarray:
    """For each (owner, t): how many (owner, s) in ``keys_sorted`` have t - window <= s < t.
    Keys are ``owner * 1e4 + time`` (times are days, < 1e4)."""
    k = owner * 1e4 + t
    return np.searchsorted(keys_sorted, k, side="left") - np.searchsorted(keys_sorted, k - window, side="left")


class _Csv:
    """A CSV written in pieces: header once (in the file's encoding), rows by pyarrow."""

    def __init__(self, path: Path, header: list[str], encoding: str = "utf-8"):
        self.path, self.encoding, self.rows = path, encoding, 0
        self.f = open(path, "wb")
        self.f.write((",".join(header) + "\n").encode(encoding))

    def write(self, table: pa.Table) -> None:
        buf = io.BytesIO()
        pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False))
        data = buf.getvalue()
        if self.encoding != "utf-8":
            data = data.decode("utf-8").encode(self.encoding)
        self.f.write(data)
        self.rows += table.num_rows

    def close(self) -> None:
        self.f.close()


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    s = pc.utf8_lpad(pc.cast(pa.array(np.asarray(numbers, np.int64)), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, s, "")


def _plant(arr: pa.Array, where: np.ndarray, suffix: str, k: int = 3) -> pa.Array:
    """``arr`` with ``suffix`` (personal data in a URL query, :data:`PLANTED_PII`)
    appended to its first ``k`` values where ``where``; uses no random
    numbers, so every other value of the data stays the same."""
    import pyarrow.compute as pc

    rows = np.flatnonzero(where)[:k]
    if not rows.size:
        return arr
    mask = np.zeros(len(arr), bool)
    mask[rows] = True
    return pc.replace_with_mask(arr, pa.array(mask), pa.array([v + suffix for v in arr.take(rows).to_pylist()]))


def _take(values, idx: np.ndarray) -> pa.Array:
    """``values[idx]`` as a string array, null where idx < 0."""
    idx = np.asarray(idx, np.int64)
    ind = pa.array(np.where(idx < 0, 0, idx), type=pa.int32(), mask=idx < 0)
    dictionary = values if isinstance(values, pa.Array) else pa.array(list(values), pa.string())
    return pa.DictionaryArray.from_arrays(ind, dictionary).cast(pa.string())


class _Writer:
    """All output files of one generation."""

    def __init__(self, out: Path):
        self.out = out
        self.customers = _Csv(out / "customers.csv", ["customer_id", "signup_at", "acquisition_channel", "referred_by",
                                                      "country", "plan", "email", "name", "phone"])
        self.orders = _Csv(out / "orders.csv", ["주문번호", "고객번호", "주문일자", "결제금액", "채널", "기기",
                                                "할인코드", "결제상태", "수량"], encoding="cp949")
        self.subscriptions = _Csv(out / "subscriptions.csv", ["subscription_id", "customer_id", "started_at",
                                                              "ended_at", "plan", "mrr"])
        self.tickets = _Csv(out / "tickets.csv", ["ticket_id", "customer_id", "created_at", "category", "channel",
                                                  "resolved_at", "csat"])
        self.surveys = _Csv(out / "surveys.csv", ["response_id", "customer_id", "responded_at", "touchpoint", "nps",
                                                  "csat", "comment"])
        self.messages = _Csv(out / "messages.csv", ["message_id", "customer_id", "campaign", "channel", "variant",
                                                    "sent_at", "opened_at", "clicked_at"])
        self.experiments = _Csv(out / "experiments.csv", ["customer_id", "experiment", "variant", "assigned_at"])
        self.events_schema = pa.schema([
            ("cookie", pa.string()), ("customer_id", pa.string()), ("ts", pa.timestamp("ms")),
            ("name", pa.string()), ("session_id", pa.string()), ("channel", pa.string()),
            ("device", pa.string()), ("page", pa.string()), ("duration_s", pa.float64()),
            ("feature", pa.string()), ("value", pa.float64()),
        ])
        self.events = pq.ParquetWriter(out / "events.parquet", self.events_schema, compression="zstd")
        self.truth_customers = None
        self.n_events = 0
        self.counters = {"order": 0, "session": 0, "subscription": 0, "ticket": 0, "response": 0, "message": 0}

    def next_ids(self, kind: str, n: int) -> np.ndarray:
        c = self.counters[kind]
        self.counters[kind] = c + n
        return np.arange(c + 1, c + n + 1)

    def close(self) -> None:
        for f in (self.customers, self.orders, self.subscriptions, self.tickets, self.surveys, self.messages,
                  self.experiments):
            f.close()
        self.events.close()
        if self.truth_customers is not None:
            self.truth_customers.close()


def generate(out_dir: str | Path, size: str = "demo", seed: int = 7, end: str = DEFAULT_END,
             scenario: str = "default") -> dict:
    """Write the demo client's exports for 24 months ending with month ``end``.

    ``size`` is ``tiny`` (1,500 customers, seconds), ``demo`` (20,000) or
    ``large`` (1,000,000, for benchmarks, written chunk by chunk). The same
    ``seed``, ``size``, ``end`` and ``scenario`` write byte-identical files.
    The folder is written next to its final place and swapped in when complete.

    ``scenario`` (:data:`SCENARIOS`): ``default``, the demo client;
    ``stationary``, the same shop with constant processes (the calibration
    of the period-over-period tests: nothing changes); ``planted``, the
    stationary shop with the known changes of :data:`PLANTED` in month
    ``end`` (truth.json records them under ``planted``).

    Returns the ground truth, also written to ``truth.json``; per-customer
    latent values (purchase rate, dropout probability, spend, friction,
    satisfaction, the day the customer left) go to ``truth_customers.parquet``.
    """
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}, got {size!r}")
    P = scenario_params(scenario)
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    first, after = _month_bounds(end)
    clock = _Clock(np.datetime64(first.isoformat()), (after - first).days)
    n_total = SIZES[size]
    day_w = _day_weights(first, clock.days, P)
    planted = None
    if scenario == "planted":
        y, m = (int(x) for x in end.split("-"))
        planted = dict(PLANTED, from_day=float((dt.date(y, m, 1) - first).days))

    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        w = _Writer(work)
        stats = _Stats()
        for chunk, offset in enumerate(range(0, n_total, CHUNK)):
            n = min(CHUNK, n_total - offset)
            rng = np.random.default_rng([seed, chunk])
            _chunk(rng, w, clock, first, day_w, n, offset, stats, P, planted, pii=chunk == 0)
        _marketing(np.random.default_rng([seed, 1_000_003]), w, clock, first, day_w, n_total, P, planted)
        w.close()
        truth = _truth(size, seed, end, first, after, w, stats, P)
        if scenario != "default":
            truth["meta"]["scenario"] = scenario
            truth["meta"]["scenario_digest"] = _scenario_digest(scenario)
            if planted is not None:
                truth["planted"] = {"month": end, **PLANTED}
        (work / "truth.json").write_text(json.dumps(truth, indent=2, ensure_ascii=False, sort_keys=True) + "\n",
                                         encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        work.rename(out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return truth


def is_current(folder: str | Path, size: str | None = None, seed: int | None = None, end: str | None = None,
               scenario: str = "default") -> bool:
    """True when ``folder`` holds demo data written by this generator
    version (and with the given ``size``, ``seed``, ``end`` and
    ``scenario``): no need to generate it again."""
    try:
        meta = json.loads((Path(folder) / "truth.json").read_text(encoding="utf-8"))["meta"]
    except (OSError, ValueError, KeyError):
        return False
    wanted = {"generator_version": GENERATOR_VERSION, "size": size, "seed": seed, "end": end}
    return all(meta.get(k) == v for k, v in wanted.items() if v is not None) and \
        meta.get("scenario", "default") == scenario and \
        (scenario == "default" or meta.get("scenario_digest") == _scenario_digest(scenario))


def _scenario_digest(scenario: str) -> str:
    """A digest of a scenario's parameters (and plants), so data written under
    other settings of the same scenario is not taken as current."""
    import hashlib

    spec = {"params": scenario_params(scenario), "planted": PLANTED if scenario == "planted" else None}
    return hashlib.blake2b(json.dumps(spec, sort_keys=True).encode(), digest_size=8).hexdigest()


class _Stats:
    """Population expectations accumulated over chunks, for truth.json."""

    def __init__(self):
        self.exp = {name: {v: [0.0, 0] for v in spec["variants"]}
                    for name, spec in PARAMS["experiments"].items()}
        self.customers = 0
        self.dropped = 0
        self.purchasers = 0
        self.promoters = 0
        self.referred = 0


def _chunk(rng, w: _Writer, clock: _Clock, first: dt.date, day_w, n: int, offset: int, stats: _Stats,
           P: dict = PARAMS, planted: dict | None = None, pii: bool = False) -> None:
    END = float(clock.days)
    # ---- customers -------------------------------------------------------
    day = np.sort(rng.choice(clock.days, size=n, p=day_w))
    signup = day + _tod(rng, n)
    signup = np.sort(signup)
    cid = _ids("C", offset + np.arange(1, n + 1), 7)
    channel = _choice(rng, P["acquisition"]["channel_share"], n)
    device = _choice(rng, P["acquisition"]["device_share"], n)
    country = _choice(rng, P["acquisition"]["country_share"], n)
    bg, gg, ch = P["bgnbd"], P["gamma_gamma"], P["churn"]
    lam = rng.gamma(bg["r"], 1.0 / bg["alpha"], n)              # purchases per week
    pdrop = rng.beta(bg["a"], bg["b"], n)
    nu = rng.gamma(gg["q"], 1.0 / gg["v"], n)                    # Gamma-Gamma scale, per thousand KRW
    rank = np.argsort(np.argsort(pdrop)) / max(n - 1, 1)
    friction = ch["friction_from_dropout_rank"] * rank + (1 - ch["friction_from_dropout_rank"]) * rng.random(n)
    adv = P["advocacy"]
    satisfaction = adv["satisfaction_base"] + adv["satisfaction_friction"] * friction + rng.normal(0, adv["satisfaction_sd"], n)
    promoter = satisfaction >= adv["promoter_satisfaction"]
    usage_rate = rng.gamma(2.0, P["consideration"]["usage_sessions_per_week_mean"] / 2.0, n) / 7.0   # per day

    # ---- experiments that act on the first purchase ---------------------
    ex = P["experiments"]["checkout_redesign"]
    in_cr = signup >= END - ex["window_days"]
    arm_cr = np.where(in_cr, _choice(rng, ex["variants"], n), -1)

    # ---- first purchase --------------------------------------------------
    pp = P["purchase"]
    c = np.array(list(pp["first_purchase_prob"].values()))[channel] * \
        np.array(list(pp["first_purchase_device_factor"].values()))[device]
    c_b = np.minimum(1.0, c * (1 + ex["relative_lift_first_purchase"]))
    c_eff = np.where(arm_cr == 1, c_b, c)
    buys = rng.random(n) < c_eff
    first_t = signup + rng.exponential(pp["days_to_first_purchase_mean"], n)
    buys &= first_t < END
    cap = np.full(n, np.inf)     # stationary scenarios: every customer leaves by signup + Exp(lifetime)
    if ch.get("lifetime_days_mean"):
        cap = signup + rng.exponential(ch["lifetime_days_mean"], n)
        buys &= first_t < cap
    f14 = 1 - np.exp(-ex["conversion_window_days"] / pp["days_to_first_purchase_mean"])
    for v, name in enumerate(ex["variants"]):
        sel = arm_cr == v
        stats.exp["checkout_redesign"][name][0] += float((np.where(v == 1, c_b, c)[sel] * f14).sum())
        stats.exp["checkout_redesign"][name][1] += int(sel.sum())

    # ---- repeat purchases: BG/NBD -----------------------------------------
    owners, times = [np.flatnonzero(buys)], [first_t[buys]]
    death = np.full(n, np.inf)
    t = first_t.copy()
    alive = np.flatnonzero(buys)
    while alive.size:
        t[alive] += 7.0 * rng.exponential(1.0, alive.size) / lam[alive]
        alive = alive[t[alive] < np.minimum(END, cap[alive])]
        owners.append(alive)
        times.append(t[alive])
        drop = rng.random(alive.size) < pdrop[alive]
        death[alive[drop]] = t[alive[drop]] + rng.exponential(ch["after_dropout_days_mean"], int(drop.sum()))
        alive = alive[~drop]
    o_cust = np.concatenate(owners)
    o_t = np.concatenate(times)
    # a repeat purchase keeps its day; its time of day follows the traffic profile
    repeat = np.concatenate([np.zeros(owners[0].size, bool), np.ones(o_cust.size - owners[0].size, bool)])
    o_t = np.where(repeat, np.floor(o_t) + _tod(rng, o_t.size), o_t)
    o_t = np.minimum(o_t, END - 1 / 86400)
    nonbuyer = ~buys
    death[nonbuyer] = signup[nonbuyer] + rng.exponential(ch["non_purchaser_lifetime_days_mean"], int(nonbuyer.sum()))
    death = np.minimum(death, cap)
    stats.customers += n
    stats.purchasers += int(buys.sum())
    stats.dropped += int((death < END).sum())
    stats.promoters += int(promoter.sum())
    stop = np.minimum(death, END)

    # ---- referrals: referred customers name an earlier promoter ---------
    referred_by = np.full(n, -1)
    ref_idx = np.flatnonzero(channel == CHANNELS.index("referral"))
    prom_idx = np.flatnonzero(promoter)
    if prom_idx.size:
        for _ in range(20):
            todo = ref_idx[referred_by[ref_idx] < 0]
            if not todo.size:
                break
            cand = prom_idx[rng.integers(0, prom_idx.size, todo.size)]
            ok = (signup[cand] < signup[todo] - 1) & (death[cand] > signup[todo])
            referred_by[todo[ok]] = cand[ok]
    stats.referred += int((referred_by >= 0).sum())

    # ---- orders ------------------------------------------------------------
    order_sort = np.lexsort((o_t, o_cust))
    o_cust, o_t = o_cust[order_sort], o_t[order_sort]
    n_orders = o_cust.size
    seq = np.arange(n_orders) - np.searchsorted(o_cust, o_cust, side="left")   # 0 = first order
    amount = np.maximum(1000.0, np.round(pp["amount_unit_krw"] * rng.gamma(gg["p"], 1.0, n_orders) / nu[o_cust], -2))
    o_dev = np.where(rng.random(n_orders) < P["consideration"]["primary_device_share"], device[o_cust],
                     rng.integers(0, 3, n_orders))
    o_chan = _session_channel(rng, n_orders)
    disc = np.full(n_orders, -1)
    d = pp["discount"]
    u = rng.random(n_orders)
    is_nov = _month_of(first, o_t) == 11
    disc[(seq == 0) & (u < d["WELCOME10"])] = 0
    disc[(seq > 0) & (u < d["SALE15"] * np.where(is_nov, pp.get("november_sale_factor", 2.0), 1.0))] = 1
    disc[(seq >= 4) & (disc < 0) & (rng.random(n_orders) < d["VIP20"])] = 2
    p_fail = np.array(list(pp["payment_failure_prob"].values()))[o_dev]
    if planted is not None:
        spike = planted["payment_failure"]
        p_fail = np.where((o_t >= planted["from_day"]) & (o_dev == DEVICES.index(spike["device"])), spike["prob"],
                          p_fail)
    fail = rng.random(n_orders) < p_fail
    items = 1 + rng.poisson(pp["items_extra_mean"], n_orders)
    # failed attempts: a separate row minutes before the paid one
    f_idx = np.flatnonzero(fail)
    all_idx = np.concatenate([np.arange(n_orders), f_idx])
    all_t = np.concatenate([o_t, o_t[f_idx] - rng.uniform(1, 10, f_idx.size) / 1440])
    status = np.concatenate([np.zeros(n_orders, int), np.ones(f_idx.size, int)])
    srt = np.argsort(all_t, kind="stable")
    all_idx, all_t, status = all_idx[srt], all_t[srt], status[srt]
    o_channel = _take(SESSION_CHANNELS, o_chan[all_idx])
    if pii:
        o_channel = _plant(o_channel, o_chan[all_idx] == SESSION_CHANNELS.index("search"), _PLANT_QUERY)
    w.orders.write(pa.table({
        "id": _ids("O", w.next_ids("order", all_idx.size), 9),
        "cust": _take(cid, o_cust[all_idx]),
        "t": clock.ts(all_t),
        "amount": pa.array(amount[all_idx].astype(np.int64)),
        "channel": o_channel,
        "device": _take(DEVICES, o_dev[all_idx]),
        "discount": _take(tuple(d), disc[all_idx]),
        "status": _take(("paid", "failed"), status),
        "items": pa.array(items[all_idx]),
    }))

    # ---- subscriptions -----------------------------------------------------
    sp = P["subscriptions"]
    trial = rng.random(n) < sp["trial_share"]
    trial_start = signup + rng.exponential(sp["trial_start_days_mean"], n)
    trial &= (trial_start < stop)
    trial_end = trial_start + sp["trial_days"]
    converts = trial & (trial_end < death) & (rng.random(n) < sp["trial_conversion"] - sp["trial_conversion_friction_penalty"] * friction)
    converts &= trial_end < END
    months_kept = rng.geometric(sp["monthly_cancel_prob"], n)
    cancel_at_churn = trial_end + sp["renewal_days"] * np.ceil(np.maximum(death - trial_end, 1e-9) / sp["renewal_days"])
    paid_end = np.minimum(trial_end + sp["renewal_days"] * months_kept, cancel_at_churn)
    plus = rng.random(n) < sp["plus_share"]
    ti, pi = np.flatnonzero(trial), np.flatnonzero(converts)
    s_cust = np.concatenate([ti, pi])
    s_start = np.concatenate([trial_start[ti], trial_end[pi]])
    s_end = np.concatenate([trial_end[ti], paid_end[pi]])
    s_plan = np.concatenate([np.zeros(ti.size, int), 1 + plus[pi]])
    srt = np.argsort(s_start, kind="stable")
    s_cust, s_start, s_end, s_plan = s_cust[srt], s_start[srt], s_end[srt], s_plan[srt]
    ended = s_end < END
    plans = ("trial", "basic", "plus")
    mrr = np.array([0.0, sp["plans"]["basic"], sp["plans"]["plus"]])[s_plan]
    w.subscriptions.write(pa.table({
        "id": _ids("SUB", w.next_ids("subscription", s_cust.size), 8),
        "cust": _take(cid, s_cust),
        "start": clock.ts(s_start),
        "end": pa.array(clock.ts(s_end), mask=~ended),
        "plan": _take(plans, s_plan),
        "mrr": pa.array(mrr),
    }))

    # ---- support tickets ---------------------------------------------------
    base = ch["ticket_rate_per_week"] / 7 * (1 + ch["ticket_rate_friction_factor"] * friction)
    boost = ch["ticket_boost_before_churn"]

    def ticket_weight(owner, tt):
        return np.where(death[owner] - tt < ch["ticket_boost_days"], 1.0, 1.0 / boost)

    tk_cust, tk_t = _thinned_times(rng, signup, stop, base * boost, ticket_weight)
    sup = P["support"]
    tk_cat = _choice(rng, sup["categories"], tk_cust.size)
    # payment failures lead to billing tickets
    fb = f_idx[rng.random(f_idx.size) < ch["billing_ticket_after_failed_payment"]]
    fb_t = o_t[fb] + rng.uniform(0, 2, fb.size)
    keep = fb_t < END
    tk_cust = np.concatenate([tk_cust, o_cust[fb][keep]])
    tk_t = np.concatenate([tk_t, fb_t[keep]])
    tk_cat = np.concatenate([tk_cat, np.full(int(keep.sum()), list(sup["categories"]).index("billing"))])
    srt = np.argsort(tk_t, kind="stable")
    tk_cust, tk_t, tk_cat = tk_cust[srt], tk_t[srt], tk_cat[srt]
    n_tk = tk_cust.size
    hours = np.exp(np.log(sup["resolution_hours_median"]) + sup["resolution_friction_factor"] * friction[tk_cust]
                   + rng.normal(0, 0.8, n_tk))
    resolved = tk_t + hours / 24
    csat = np.clip(np.round(4.8 - 0.35 * np.log1p(hours) - 1.2 * friction[tk_cust] + rng.normal(0, 0.6, n_tk)), 1, 5)
    csat_given = rng.random(n_tk) < sup["csat_response"]
    w.tickets.write(pa.table({
        "id": _ids("T", w.next_ids("ticket", n_tk), 8),
        "cust": _take(cid, tk_cust),
        "t": clock.ts(tk_t),
        "category": _take(tuple(sup["categories"]), tk_cat),
        "channel": _take(tuple(sup["channels"]), _choice(rng, sup["channels"], n_tk)),
        "resolved": pa.array(clock.ts(resolved), mask=resolved >= END),
        "csat": pa.array(csat.astype(np.int64), mask=~csat_given | (resolved >= END)),
    }))
    tk_keys = np.sort(tk_cust * 1e4 + tk_t)

    # ---- sessions and events ----------------------------------------------
    cons = P["consideration"]

    def decline(owner, tt):
        return np.clip((death[owner] - tt) / ch["usage_decline_days"], ch["usage_floor"], 1.0)

    us_cust, us_t = _thinned_times(rng, signup, stop, usage_rate, decline)
    br_cust, br_t = _thinned_times(rng, signup, stop, np.full(n, cons["browse_sessions_per_week"] / 7), decline)
    # reviews after orders, shares and referrals by promoters (inside usage sessions)
    paid_ok = o_t < END
    rv = paid_ok & (rng.random(n_orders) < adv["review_after_order"] + adv["review_after_order_satisfied"] * (satisfaction[o_cust] >= 8))
    rv_t = o_t[rv] + rng.uniform(1, 10, int(rv.sum()))
    rv_keep = rv_t < stop[o_cust[rv]]
    rv_cust, rv_t = o_cust[rv][rv_keep], rv_t[rv_keep]
    rv_val = np.clip(np.round(satisfaction[rv_cust] / 2 + rng.normal(0, 0.7, rv_cust.size)), 1, 5)
    rf = np.flatnonzero(referred_by >= 0)
    rf_cust = referred_by[rf]
    rf_t = signup[rf] - rng.uniform(0.05, 3, rf.size)
    rf_t = np.maximum(rf_t, signup[rf_cust])
    # pre-signup browsing by the same visitor (no customer id yet)
    pre_n = rng.poisson(cons["pre_signup_sessions_mean"], n)
    pre_cust = np.repeat(np.arange(n), pre_n)
    pre_t = signup[pre_cust] - rng.uniform(0.01, 14, pre_cust.size)
    pre_ok = pre_t >= 0
    pre_cust, pre_t = pre_cust[pre_ok], pre_t[pre_ok]
    # anonymous visitors who never sign up
    n_anon = int(round(n * cons["anonymous_visitors_per_customer"]))
    an_n = 1 + rng.poisson(0.5, n_anon)
    an_vis = np.repeat(np.arange(n_anon), an_n)
    an_day = rng.choice(clock.days, size=n_anon, p=day_w)[an_vis] + rng.integers(0, 7, an_vis.size)
    an_t = np.minimum(an_day, clock.days - 1) + _tod(rng, an_vis.size)
    an_dev = _choice(rng, P["acquisition"]["device_share"], n_anon)[an_vis]

    # cookies: one per customer, one per anonymous visitor
    cookie_num = rng.integers(16**11, 16**12, n + n_anon)
    cookies = pa.array([f"{x:012x}" for x in cookie_num.tolist()], pa.string())

    kinds = []   # (kind, customer index or -1, cookie index, anchor time, device, channel)

    def add(kind, cust, cookie, t0, dev, chan):
        kinds.append((np.full(cust.size, kind), cust, cookie, t0, dev, chan))

    def dev_of(cust):
        return np.where(rng.random(cust.size) < cons["primary_device_share"], device[cust], rng.integers(0, 3, cust.size))

    K_BROWSE, K_PURCHASE, K_USAGE, K_SIGNUP = range(4)
    paid_rows = np.flatnonzero(paid_ok)
    add(K_PURCHASE, o_cust[paid_rows], o_cust[paid_rows], o_t[paid_rows], o_dev[paid_rows], o_chan[paid_rows])
    add(K_BROWSE, br_cust, br_cust, br_t, dev_of(br_cust), _session_channel(rng, br_cust.size))
    add(K_BROWSE, np.full(pre_cust.size, -1), pre_cust, pre_t, dev_of(pre_cust),
        _acq_session_channel(channel[pre_cust]))
    add(K_BROWSE, np.full(an_vis.size, -1), n + an_vis, an_t, an_dev, _anon_channel(rng, an_vis.size))
    add(K_SIGNUP, np.arange(n), np.arange(n), signup, device, _acq_session_channel(channel))
    us_all_cust = np.concatenate([us_cust, rv_cust, rf_cust])
    us_all_t = np.concatenate([us_t, rv_t, rf_t])
    us_flag = np.concatenate([np.zeros(us_cust.size, int), np.ones(rv_cust.size, int), np.full(rf_cust.size, 2)])
    add(K_USAGE, us_all_cust, us_all_cust, us_all_t, dev_of(us_all_cust), _session_channel(rng, us_all_cust.size, app=True))

    s_kind = np.concatenate([k[0] for k in kinds])
    s_cust = np.concatenate([k[1] for k in kinds])
    s_cookie = np.concatenate([k[2] for k in kinds])
    s_t = np.concatenate([k[3] for k in kinds])
    s_dev = np.concatenate([k[4] for k in kinds])
    s_chan = np.concatenate([k[5] for k in kinds])
    n_s = s_kind.size
    # usage-session extras: 0 plain, 1 review, 2 referral
    s_extra = np.full(n_s, -1)
    usage_pos = np.flatnonzero(s_kind == K_USAGE)
    s_extra[usage_pos] = us_flag
    s_val = np.full(n_s, np.nan)
    s_val[usage_pos[us_flag == 1]] = rv_val

    ev_sess, ev_rank, ev_name, ev_page, ev_feat = [], [], [], [], []

    def emit(sess, rank, name, page=None, feat=None):
        ev_sess.append(sess)
        ev_rank.append(np.full(sess.size, rank) if np.isscalar(rank) else rank)
        ev_name.append(np.full(sess.size, name))
        ev_page.append(np.full(sess.size, -1) if page is None else page)
        ev_feat.append(np.full(sess.size, -1) if feat is None else feat)

    web = np.flatnonzero(s_kind != K_USAGE)
    emit(web, 0, E_VISIT, page=np.zeros(web.size, int))
    # pages viewed
    n_pages = rng.poisson(cons["pages_per_session_mean"] - 1, web.size) + 1
    pg_sess = np.repeat(web, n_pages)
    pg_rank = 1 + np.arange(pg_sess.size) - np.repeat(np.cumsum(n_pages) - n_pages, n_pages)
    pg_page = np.where(s_kind[pg_sess] == K_SIGNUP, PAGES.index("/signup"), rng.integers(0, 7, pg_sess.size))
    emit(pg_sess, pg_rank, E_PAGE, page=pg_page)
    # funnel in browse sessions (drop-off by device); purchase sessions go all the way
    br = np.flatnonzero(s_kind == K_BROWSE)
    pv = rng.random(br.size) < np.array(list(cons["product_view"].values()))[s_dev[br]]
    ct = pv & (rng.random(br.size) < np.array(list(cons["add_to_cart"].values()))[s_dev[br]])
    co = ct & (rng.random(br.size) < np.array(list(cons["checkout_start"].values()))[s_dev[br]])
    pr = rng.random(br.size) < cons["pricing_view"]
    pu = np.flatnonzero(s_kind == K_PURCHASE)
    emit(br[pr], 50, E_PRICING, page=np.full(int(pr.sum()), PAGES.index("/pricing")))
    pdp_s = np.concatenate([br[pv], pu])
    emit(pdp_s, 60, E_PDP, page=P_PRODUCT0 + rng.integers(0, 6, pdp_s.size))
    cart_s = np.concatenate([br[ct], pu])
    emit(cart_s, 70, E_CART, page=np.full(cart_s.size, PAGES.index("/cart")))
    chk_s = np.concatenate([br[co], pu])
    emit(chk_s, 80, E_CHECKOUT, page=np.full(chk_s.size, PAGES.index("/checkout")))
    emit(pu, 90, E_PURCHASE, page=np.full(pu.size, PAGES.index("/checkout/done")))
    # app usage
    emit(usage_pos, 0, E_LOGIN)
    mob = usage_pos[(s_dev[usage_pos] == 1) & (rng.random(usage_pos.size) < cons["app_open_share_mobile"])]
    emit(mob, 1, E_APP_OPEN)
    n_feat = rng.poisson(cons["features_per_usage_session_mean"], usage_pos.size)
    ft_sess = np.repeat(usage_pos, n_feat)
    ft_rank = 10 + np.arange(ft_sess.size) - np.repeat(np.cumsum(n_feat) - n_feat, n_feat)
    emit(ft_sess, ft_rank, E_FEATURE, feat=rng.choice(len(FEATURES), ft_sess.size, p=[.3, .25, .1, .1, .15, .1]))
    emit(usage_pos[us_flag == 1], 50, E_REVIEW)
    emit(usage_pos[us_flag == 2], 60, E_REFER)
    prom_s = usage_pos[promoter[s_cust[usage_pos]]]
    sh = prom_s[rng.random(prom_s.size) < adv["share_per_usage_session_promoter"]]
    emit(sh, 55, E_SHARE)
    rfx = prom_s[(us_flag[promoter[s_cust[usage_pos]]] == 0) &
                 (rng.random(prom_s.size) < adv["refer_per_usage_session_promoter"])]
    emit(rfx, 61, E_REFER)

    e_sess = np.concatenate(ev_sess)
    e_rank = np.concatenate(ev_rank)
    e_name = np.concatenate(ev_name)
    e_page = np.concatenate(ev_page)
    e_feat = np.concatenate(ev_feat)
    o = np.lexsort((e_rank, e_sess))
    e_sess, e_name, e_page, e_feat = e_sess[o], e_name[o], e_page[o], e_feat[o]
    n_e = e_sess.size
    # dwell: page-like events have a duration; the next event starts after it
    page_like = np.isin(e_name, [E_PAGE, E_PDP, E_PRICING, E_CART, E_CHECKOUT, E_VISIT])
    dwell = np.round(rng.lognormal(np.log(35), 0.8, n_e)) + 1
    dwell = np.where(e_name == E_PDP, np.round(dwell * 1.8), dwell)
    gap = np.where(page_like, dwell, np.round(rng.uniform(5, 60, n_e)))
    starts = np.searchsorted(e_sess, np.arange(n_s))
    csum = np.cumsum(gap) - gap
    offset = csum - csum[starts[e_sess]]
    last = np.r_[starts[1:], n_e] - 1
    s_anchor = s_t - np.where(s_kind == K_PURCHASE, offset[last] / 86400, 0)
    e_t = np.round((s_anchor[e_sess] + offset / 86400) * 86400) / 86400      # whole seconds
    e_t = np.clip(e_t, 0, END - 1 / 86400)
    e_val = np.full(n_e, np.nan)
    is_purchase = e_name == E_PURCHASE
    pur_rows = np.flatnonzero(s_kind == K_PURCHASE)
    # purchase sessions were added first, in paid_rows order
    e_val[is_purchase] = amount[paid_rows][np.searchsorted(pur_rows, e_sess[is_purchase])]
    rv_e = e_name == E_REVIEW
    e_val[rv_e] = s_val[e_sess[rv_e]]
    e_dur = np.where(page_like & (e_name != E_VISIT), dwell, np.nan)
    sess_ids = _ids("S", w.next_ids("session", n_s), 10)
    order = np.argsort(e_t, kind="stable")
    e_names, e_pages = _take(EVENT_NAMES, e_name[order]), _take(PAGES, e_page[order])
    if pii:
        e_names = _plant(e_names, e_name[order] == E_APP_OPEN, _PLANT_QUERY)
        e_pages = _plant(e_pages, e_page[order] == PAGES.index("/menu"), _PLANT_OTHER)
    ev = pa.table({
        "cookie": _take(cookies, s_cookie[e_sess][order]),
        "customer_id": _take(cid, s_cust[e_sess][order]),
        "ts": pa.array(clock.ts(e_t[order], "ms")),
        "name": e_names,
        "session_id": sess_ids.take(pa.array(e_sess[order])),
        "channel": _take(SESSION_CHANNELS, s_chan[e_sess][order]),
        "device": _take(DEVICES, s_dev[e_sess][order]),
        "page": e_pages,
        "duration_s": pa.array(e_dur[order], mask=np.isnan(e_dur[order])),
        "feature": _take(FEATURES, e_feat[order]),
        "value": pa.array(e_val[order], mask=np.isnan(e_val[order])),
    }, schema=w.events_schema)
    w.events.write_table(ev, row_group_size=1_000_000)
    w.n_events += n_e

    # ---- surveys: NPS after orders, after tickets, in the app -------------
    sv_o = paid_rows[rng.random(paid_rows.size) < adv["survey_after_order"]]
    sv_tk = np.flatnonzero((rng.random(n_tk) < adv["survey_after_ticket"]) & (resolved < END))
    us_sv = np.flatnonzero(rng.random(us_cust.size) < adv["survey_in_app"])
    r_cust = np.concatenate([o_cust[sv_o], tk_cust[sv_tk], us_cust[us_sv]])
    r_t = np.concatenate([o_t[sv_o] + rng.uniform(2, 7, sv_o.size), resolved[sv_tk] + rng.uniform(0, 2, sv_tk.size),
                          us_t[us_sv] + 0.001])
    r_tp = np.concatenate([np.zeros(sv_o.size, int), np.ones(sv_tk.size, int), np.full(us_sv.size, 2)])
    r_csat = np.concatenate([np.full(sv_o.size, np.nan), csat[sv_tk], np.full(us_sv.size, np.nan)])
    ok = r_t < END
    r_cust, r_t, r_tp, r_csat = r_cust[ok], r_t[ok], r_tp[ok], r_csat[ok]
    recent = _count_before(tk_keys, r_cust, r_t, adv["recent_ticket_days"])
    score = (satisfaction[r_cust] + adv["nps_per_recent_ticket"] * recent
             + adv["nps_per_csat_point_below_5"] * np.where(np.isnan(r_csat), 0, 5 - r_csat)
             + rng.normal(0, adv["nps_noise_sd"], r_cust.size))
    if planted is not None:
        score = score + np.where(r_t >= planted["from_day"], planted["nps_shift"], 0.0)
    nps = np.clip(np.round(score), 0, 10).astype(np.int64)
    srt = np.argsort(r_t, kind="stable")
    r_cust, r_t, r_tp, r_csat, nps = r_cust[srt], r_t[srt], r_tp[srt], r_csat[srt], nps[srt]
    has_c = rng.random(r_cust.size) < adv["comment_share"]
    ci = rng.integers(0, len(_COMMENTS), r_cust.size)
    ab = rng.integers(0, 10_000, (r_cust.size, 2))
    comments = [(_COMMENTS[k].format(a=a, b=b) if h else None)
                for k, h, (a, b) in zip(ci.tolist(), has_c.tolist(), ab.tolist())]
    w.surveys.write(pa.table({
        "id": _ids("R", w.next_ids("response", r_cust.size), 8),
        "cust": _take(cid, r_cust),
        "t": clock.ts(r_t),
        "touchpoint": _take(("post_purchase", "support", "in_app"), r_tp),
        "nps": pa.array(nps),
        "csat": pa.array(np.nan_to_num(r_csat).astype(np.int64), mask=np.isnan(r_csat)),
        "comment": pa.array(comments, pa.string()),
    }))

    # ---- CRM messages --------------------------------------------------------
    _messages(rng, w, clock, first, cid, signup, death, o_cust, o_t[:], paid_ok, n, P, pii=pii)

    # ---- experiments -----------------------------------------------------------
    fs = P["experiments"]["free_shipping_banner"]
    win0 = END - fs["window_days"]
    act = np.flatnonzero((s_cust >= 0) & (s_t >= win0))
    a_cust, a_t = s_cust[act], s_t[act]
    srt = np.lexsort((a_t, a_cust))
    a_cust, a_t = a_cust[srt], a_t[srt]
    firsts = np.r_[True, a_cust[1:] != a_cust[:-1]]
    fs_cust, fs_t = a_cust[firsts], a_t[firsts]
    fs_arm = _choice(rng, fs["variants"], fs_cust.size)
    for v, name in enumerate(fs["variants"]):
        stats.exp["free_shipping_banner"][name][1] += int((fs_arm == v).sum())
    cr = np.flatnonzero(arm_cr >= 0)
    x_cust = np.concatenate([cr, fs_cust])
    x_t = np.concatenate([signup[cr], fs_t])
    x_exp = np.concatenate([np.zeros(cr.size, int), np.ones(fs_cust.size, int)])
    x_var = np.concatenate([arm_cr[cr], 2 + fs_arm])
    srt = np.argsort(x_t, kind="stable")
    w.experiments.write(pa.table({
        "cust": _take(cid, x_cust[srt]),
        "experiment": _take(tuple(P["experiments"]), x_exp[srt]),
        "variant": _take(("A", "B", "control", "treatment"), x_var[srt]),
        "t": clock.ts(x_t[srt]),
    }))

    # ---- customers (with fake personal data the loader must drop) --------------
    g = rng.integers(0, len(_GIVEN), n)
    s = rng.integers(0, len(_SURNAMES), n)
    num = rng.integers(10, 10_000, n)
    ph = rng.integers(0, 10_000, (n, 2))
    names = [_SURNAMES[a] + _GIVEN[b] for a, b in zip(s.tolist(), g.tolist())]
    emails = [f"{_ROMAN[b]}{k}@example.com" for b, k in zip(g.tolist(), num.tolist())]
    phones = [f"010-{a:04d}-{b:04d}" for a, b in ph.tolist()]
    member = usage_rate * 7 > P["consideration"]["usage_sessions_per_week_mean"]
    acq = _take(CHANNELS, channel)
    if pii:
        acq = _plant(acq, channel == CHANNELS.index("search"), _PLANT_OTHER)
    w.customers.write(pa.table({
        "id": cid,
        "signup": clock.ts(signup),
        "channel": acq,
        "referred_by": _take(cid, referred_by),
        "country": _take(tuple(P["acquisition"]["country_share"]), country),
        "plan": _take(("free", "member"), member.astype(int)),
        "email": pa.array(emails), "name": pa.array(names), "phone": pa.array(phones),
    }))

    # ---- per-customer truth ----------------------------------------------------
    n_paid = np.bincount(o_cust[paid_ok], minlength=n)
    tc = pa.table({
        "customer_id": cid,
        "signup_at": clock.ts(signup),
        "acquisition_channel": _take(CHANNELS, channel),
        "device": _take(DEVICES, device),
        "first_purchase_prob": c_eff,
        "purchased": buys,
        "first_purchase_at": pa.array(clock.ts(first_t), mask=~buys),
        "lambda_per_week": lam,
        "p_dropout": pdrop,
        "nu_per_thousand_krw": nu,
        "expected_spend_krw": pp["amount_unit_krw"] * gg["p"] / nu,
        "friction": friction,
        "satisfaction": satisfaction,
        "promoter": promoter,
        "left_at": pa.array(clock.ts(np.where(np.isfinite(death), np.minimum(death, 1e5), 0)),
                            mask=~(death < END)),
        "paid_orders": n_paid,
        "checkout_redesign_arm": _take(("A", "B"), arm_cr),
    })
    if w.truth_customers is None:
        w.truth_customers = pq.ParquetWriter(w.out / "truth_customers.parquet", tc.schema, compression="zstd")
    w.truth_customers.write_table(tc)


def _thinned_times(rng, start, stop, rate, weight):
    """Times of a Poisson process per entity on [start, stop) with rate at
    most ``rate`` per day (an array, one per entity), thinned by
    ``weight(owner, t)`` ∈ [0, 1]: each candidate time is kept with that probability."""
    length = np.clip(stop - start, 0, None)
    cnt = rng.poisson(rate * length)
    owner = np.repeat(np.arange(start.size), cnt)
    t = start[owner] + rng.random(owner.size) * length[owner]
    keep = rng.random(owner.size) < weight(owner, t)
    return owner[keep], t[keep]


def _month_of(first: dt.date, t: np.ndarray) -> np.ndarray:
    d = np.datetime64(first.isoformat()) + np.floor(t).astype("timedelta64[D]")
    return d.astype("datetime64[M]").astype(int) % 12 + 1


def _session_channel(rng, n: int, app: bool = False) -> np.ndarray:
    """Channel of a returning customer's session, as an index into SESSION_CHANNELS."""
    shares = ({"direct": .5, "search": .05, "email": .1, "social": .05, "push": .3} if app else
              {"direct": .4, "search": .2, "email": .15, "social": .15, "push": .1})
    idx = _choice(rng, shares, n)
    return np.array([SESSION_CHANNELS.index(k) for k in shares])[idx]


def _acq_session_channel(acq: np.ndarray) -> np.ndarray:
    """A new visitor arrives through her acquisition channel."""
    return np.array([SESSION_CHANNELS.index(c) for c in CHANNELS])[acq]


def _anon_channel(rng, n: int) -> np.ndarray:
    shares = {"search": .35, "social": .3, "display": .15, "organic": .2}
    return np.array([SESSION_CHANNELS.index(k) for k in shares])[_choice(rng, shares, n)]


def _messages(rng, w: _Writer, clock: _Clock, first: dt.date, cid, signup, death, o_cust, o_t, paid_ok, n,
              P: dict = PARAMS, pii: bool = False) -> None:
    cm = P["campaigns"]
    END = float(clock.days)
    camp_names: list[str] = ["welcome"]
    m_cust, m_t, m_camp, m_chan, m_var = [], [], [], [], []
    # welcome email minutes after sign-up
    m_cust.append(np.arange(n)); m_t.append(signup + rng.uniform(5, 60, n) / 1440)
    m_camp.append(np.zeros(n, int)); m_chan.append(np.zeros(n, int)); m_var.append(np.full(n, -1))
    # monthly newsletter, second Tuesday; the send hour rotates
    d0 = first
    k = 0
    while True:
        y, mth = d0.year + (d0.month - 1 + k) // 12, (d0.month - 1 + k) % 12 + 1
        month_start = dt.date(y, mth, 1)
        if (month_start - first).days >= END:
            break
        tues = [d for d in range(1, 15) if dt.date(y, mth, d).weekday() == 1][1]
        hour = cm["newsletter_hours"][k % len(cm["newsletter_hours"])]
        t = (dt.date(y, mth, tues) - first).days + hour / 24
        camp_names.append(f"newsletter_{y}-{mth:02d}")
        to = np.flatnonzero((signup < t) & (rng.random(n) < cm["newsletter_reach"]))
        m_cust.append(to); m_t.append(np.full(to.size, t)); m_camp.append(np.full(to.size, len(camp_names) - 1))
        m_chan.append(np.zeros(to.size, int)); m_var.append(rng.integers(0, 2, to.size))
        # Black Friday: last Friday of November, SMS at 11:00
        if mth == 11:
            fri = max(d for d in range(22, 31) if dt.date(y, 11, d).weekday() == 4)
            t = (dt.date(y, 11, fri) - first).days + 11 / 24
            camp_names.append(f"black_friday_{y}")
            to = np.flatnonzero((signup < t) & (rng.random(n) < cm["black_friday_reach"]))
            m_cust.append(to); m_t.append(np.full(to.size, t)); m_camp.append(np.full(to.size, len(camp_names) - 1))
            m_chan.append(np.full(to.size, 2)); m_var.append(np.full(to.size, -1))
        k += 1
    # win-back push 60 days after a purchase with none since
    pc_ = o_cust[paid_ok]; pt = o_t[paid_ok]
    nxt = np.r_[pt[1:], np.inf]
    same = np.r_[pc_[1:] == pc_[:-1], False]
    nxt = np.where(same, nxt, np.inf)
    due = pt + cm["winback_after_days"]
    wb = (nxt > due) & (due < END)
    camp_names.append("winback_60d")
    wt = np.floor(due[wb]) + 11 / 24
    okw = wt < END
    m_cust.append(pc_[wb][okw]); m_t.append(wt[okw]); m_camp.append(np.full(int(okw.sum()), len(camp_names) - 1))
    m_chan.append(np.ones(int(okw.sum()), int)); m_var.append(np.full(int(okw.sum()), -1))

    mc = np.concatenate(m_cust); mt = np.concatenate(m_t); mk = np.concatenate(m_camp)
    mch = np.concatenate(m_chan); mv = np.concatenate(m_var)
    ok = mt < END
    mc, mt, mk, mch, mv = mc[ok], mt[ok], mk[ok], mch[ok], mv[ok]
    keys = np.sort(mc * 1e4 + mt)
    received = _count_before(keys, mc, mt, 30)
    hour = np.round((mt % 1) * 24).astype(int)
    hf = np.array([cm["hour_factor"].get(str(h), 1.0) for h in range(25)])[hour]
    base = np.array([cm["open"]["email"], cm["open"]["push"], 0.0])[mch]
    gone = death[mc] < mt
    p_open = base * hf * cm["fatigue_per_message_30d"] ** received * np.where(gone, cm["after_churn_factor"], 1.0)
    p_open *= np.where(mv == 1, cm["newsletter_variant_b_open_factor"], 1.0)
    opened = (mch < 2) & (rng.random(mc.size) < np.clip(p_open, 0, 1))
    open_t = mt + rng.lognormal(np.log(2), 1.0, mc.size) / 24
    p_click = np.where(mch == 0, cm["click_given_open"]["email"], cm["click_given_open"]["push"])
    clicked = np.where(mch == 2,
                       rng.random(mc.size) < cm["click_sms"] * np.where(gone, cm["after_churn_factor"], 1.0),
                       opened & (rng.random(mc.size) < p_click))
    click_t = np.where(mch == 2, mt, open_t) + rng.uniform(0.5, 30, mc.size) / 1440
    opened &= open_t < END
    clicked &= click_t < END
    srt = np.argsort(mt, kind="stable")
    mc, mt, mk, mch, mv, opened, clicked, open_t, click_t = (a[srt] for a in
                                                           (mc, mt, mk, mch, mv, opened, clicked, open_t, click_t))
    campaign = _take(camp_names, mk)
    if pii:
        campaign = _plant(campaign, mk == 0, _PLANT_QUERY)   # the welcome e-mail
    w.messages.write(pa.table({
        "id": _ids("M", w.next_ids("message", mc.size), 10),
        "cust": _take(cid, mc),
        "campaign": campaign,
        "channel": _take(("email", "push", "sms"), mch),
        "variant": _take(("A", "B"), mv),
        "sent": clock.ts(mt),
        "opened": pa.array(clock.ts(open_t), mask=~opened),
        "clicked": pa.array(clock.ts(click_t), mask=~clicked),
    }))


def _marketing(rng, w: _Writer, clock: _Clock, first: dt.date, day_w, n_total: int, P: dict = PARAMS,
               planted: dict | None = None) -> None:
    """Daily paid-media rows per channel and campaign; clicks track the
    expected sign-ups of the channel, impressions and spend follow its CTR and CPC
    (with ``planted``, the CTR of its last month × ``ctr_factor``)."""
    aw, acq = P["awareness"], P["acquisition"]
    ctr_factor = np.ones(clock.days)
    if planted is not None:
        ctr_factor[int(planted["from_day"]):] = planted["ctr_factor"]
    rows = {k: [] for k in ("date", "channel", "campaign", "impressions", "clicks", "spend", "conversions")}
    dates = np.datetime64(first.isoformat()) + np.arange(clock.days).astype("timedelta64[D]")
    for ch in PAID_CHANNELS:
        camps = aw["campaigns"][ch]
        exp_signups = n_total * acq["channel_share"][ch] * day_w / len(camps)
        for camp in camps:
            clicks = rng.poisson(exp_signups * aw["clicks_per_signup"][ch] * rng.lognormal(0, 0.1, clock.days))
            impressions = np.maximum(clicks, np.round(clicks / (aw["ctr"][ch] * ctr_factor)
                                                      * rng.lognormal(0, 0.1, clock.days)))
            spend = np.round(clicks * aw["cpc"][ch] * rng.lognormal(0, 0.15, clock.days))
            conv = rng.poisson(exp_signups * aw["platform_conversion_inflation"])
            rows["date"].append(dates)
            rows["channel"].append(np.full(clock.days, ch, object))
            rows["campaign"].append(np.full(clock.days, camp, object))
            rows["impressions"].append(impressions.astype(np.int64))
            rows["clicks"].append(clicks.astype(np.int64))
            rows["spend"].append(spend.astype(np.int64))
            rows["conversions"].append(conv.astype(np.int64))
    cols = {k: np.concatenate(v) for k, v in rows.items()}
    o = np.lexsort((cols["campaign"], cols["channel"], cols["date"]))
    table = pa.table({k: (pa.array(v[o].astype(str)) if k == "date" else pa.array(v[o])) for k, v in cols.items()})
    out = _Csv(w.out / "marketing.csv", list(cols))
    out.write(table)
    out.close()
    w.marketing_rows = out.rows


def _truth(size, seed, end, first, after, w: _Writer, stats: _Stats, P: dict = PARAMS) -> dict:
    exps = {}
    for name, spec in P["experiments"].items():
        arms = stats.exp[name]
        e = {"variants": spec["variants"], "users": {v: a[1] for v, a in arms.items()}}
        if name == "checkout_redesign":
            rates = {v: (a[0] / a[1] if a[1] else None) for v, a in arms.items()}
            e.update(conversion="first paid order within 14 days of assignment (assigned at sign-up)",
                     true_conversion_rate=rates,
                     true_lift=(rates["B"] - rates["A"]) if None not in rates.values() else None,
                     relative_lift_first_purchase=spec["relative_lift_first_purchase"])
        else:
            e.update(conversion="any paid order within 14 days of assignment (assigned at first session of the window)",
                     true_lift=0.0, srm=True)
        exps[name] = e
    rows = {
        "customers.csv": w.customers.rows, "marketing.csv": w.marketing_rows, "events.parquet": w.n_events,
        "orders.csv": w.orders.rows, "subscriptions.csv": w.subscriptions.rows, "tickets.csv": w.tickets.rows,
        "surveys.csv": w.surveys.rows, "messages.csv": w.messages.rows, "experiments.csv": w.experiments.rows,
    }
    return {
        "planted_pii": list(PLANTED_PII),
        "meta": {"generator_version": GENERATOR_VERSION, "size": size, "seed": seed, "end": end,
                 "start": first.isoformat(), "end_exclusive": after.isoformat(), "months": MONTHS,
                 "timezone": "Asia/Seoul", "currency": "KRW", "rows": rows,
                 "customers": stats.customers},
        "awareness": P["awareness"] | {"channel_share": P["acquisition"]["channel_share"]},
        "acquisition": P["acquisition"],
        "consideration": P["consideration"],
        "purchase": P["purchase"] | {"purchasers": stats.purchasers},
        "bgnbd": P["bgnbd"],
        "gamma_gamma": P["gamma_gamma"] | {"v_krw": P["gamma_gamma"]["v"] * P["purchase"]["amount_unit_krw"]},
        "churn": P["churn"] | {"customers_left_before_end": stats.dropped,
                               "per_customer": "truth_customers.parquet: left_at (null = still active at the end)"},
        "subscriptions": P["subscriptions"],
        "support": P["support"],
        "advocacy": P["advocacy"] | {"promoter_customers": stats.promoters, "referred_customers": stats.referred},
        "campaigns": P["campaigns"],
        "experiments": exps,
    }


__all__ = ["generate", "is_current", "scenario_params", "SIZES", "DEFAULT_END", "PARAMS", "SCENARIOS", "PLANTED",
           "CHUNK"]
