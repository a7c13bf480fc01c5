"""The typed settings of the segmentation and prediction sections and of
the planned experiments: the ``segmentation:``, ``prediction:`` and
``experiments:`` blocks of a client file, every key with its default. :class:`journeykit.core.config.RunConfig` holds them, so
an unknown key or a value out of range is refused when the configuration
is loaded (``journeykit validate`` included), naming the file and the key.

The whole ``segmentation:`` block, with the defaults::

    segmentation:
      rfm:
        lookback_days: 365          # RFM looks at paid orders of the last 365 days
        segments:                   # first matching rule wins; must cover every (r, fm) cell 1-5
          - {segment: champions,           r: [5, 5], fm: [4, 5]}
          - {segment: loyal,               r: [3, 4], fm: [4, 5]}
          - {segment: potential_loyalists, r: [4, 5], fm: [2, 3]}
          - {segment: new,                 r: [5, 5], fm: [1, 1]}
          - {segment: promising,           r: [4, 4], fm: [1, 1]}
          - {segment: need_attention,      r: [3, 3], fm: [1, 3]}
          - {segment: cant_lose,           r: [1, 2], fm: [5, 5]}
          - {segment: at_risk,             r: [1, 2], fm: [3, 4]}
          - {segment: hibernating,         r: [2, 2], fm: [1, 2]}
          - {segment: lost,                r: [1, 1], fm: [1, 2]}
      clusters:
        window_days: 90             # behaviour of the last 90 days
        method: kmeans              # kmeans | gmm
        k_min: 2
        k_max: 6                    # k chosen by silhouette in [k_min, k_max]
        seed: 7
        min_customers: 50           # fewer active customers: no clustering
      lifecycle:
        new_days: 30                # signed up in the last 30 days: new
        at_risk_days: 30            # silent for 30 days: at risk
        dormant_days: 60            # silent for 60 days: dormant (churned at definitions.churn_inactivity_days)
        reactivated_days: 30        # came back in the last 30 days after a silence of dormant_days: reactivated
      health:
        weights: {usage_trend: 0.15, recency: 0.15, engagement: 0.30, tickets: 0.10,
                  nps_csat: 0.15, payment_failures: 0.05, subscription: 0.10}
        healthy_min: 70             # score >= 70: Healthy
        unhealthy_below: 40         # score < 40: Unhealthy; in between: At Risk
        usage_recent_days: 28
        usage_baseline_days: 56
        tickets_days: 90
        payments_days: 90
        survey_days: 365
        trend_months: 6
      playbooks:                    # see DEFAULT_PLAYBOOKS
        - {action: welcome_guide, states: [new], timing_days: 1}
        - ...

A custom segment or action may carry a ``label`` (shown as is) and a
playbook a ``timing`` text; the default ones are worded in the client's
language. Replacing ``segments`` or ``playbooks`` replaces the whole list.

The ``experiments:`` block plans A/B tests by the name they have in the
experiments table (an experiment not listed is read with the defaults
below)::

    experiments:
      checkout_v2:
        allocation: {control: 0.9, treatment: 0.1}   # planned share per variant, summing to 1;
                                                     # default: an equal split of the variants found
        mde: 0.02                   # minimum detectable effect: an absolute lift of the conversion
                                    # rate (0.02 = +2 pp); default definitions.experiment_mde
        started: 2026-09-01         # assignments before this day are left out (a restart);
                                    # default: the experiment's first assignment
        spending: obrien_fleming    # obrien_fleming | pocock: how the monthly looks share alpha
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------
# Segmentation (section 60)
# --------------------------------------------------------------------------

_KEY = r"^[a-z][a-z0-9_]*$"


class SegmentRule(_Strict):
    """One RFM segment: the R score range and the FM score range it covers."""

    segment: str = Field(pattern=_KEY)
    r: tuple[int, int]
    fm: tuple[int, int]
    label: str | None = None

    @field_validator("r", "fm")
    @classmethod
    def _range(cls, v: tuple[int, int]) -> tuple[int, int]:
        lo, hi = v
        if not (1 <= lo <= hi <= 5):
            raise ValueError(f"score range {list(v)} must be [low, high] with 1 <= low <= high <= 5")
        return v


DEFAULT_RFM_RULES = (
    SegmentRule(segment="champions", r=(5, 5), fm=(4, 5)),
    SegmentRule(segment="loyal", r=(3, 4), fm=(4, 5)),
    SegmentRule(segment="potential_loyalists", r=(4, 5), fm=(2, 3)),
    SegmentRule(segment="new", r=(5, 5), fm=(1, 1)),
    SegmentRule(segment="promising", r=(4, 4), fm=(1, 1)),
    SegmentRule(segment="need_attention", r=(3, 3), fm=(1, 3)),
    SegmentRule(segment="cant_lose", r=(1, 2), fm=(5, 5)),
    SegmentRule(segment="at_risk", r=(1, 2), fm=(3, 4)),
    SegmentRule(segment="hibernating", r=(2, 2), fm=(1, 2)),
    SegmentRule(segment="lost", r=(1, 1), fm=(1, 2)),
)


class RFMSettings(_Strict):
    lookback_days: int = Field(365, ge=30)
    segments: tuple[SegmentRule, ...] = DEFAULT_RFM_RULES

    @model_validator(mode="after")
    def _covers_every_cell(self) -> "RFMSettings":
        missing = [(r, fm) for r in range(1, 6) for fm in range(1, 6)
                   if not any(s.r[0] <= r <= s.r[1] and s.fm[0] <= fm <= s.fm[1] for s in self.segments)]
        if missing:
            raise ValueError(f"the segments leave score cells (r, fm) without a segment: {missing[:5]}"
                             " — every r and fm from 1 to 5 must fall in some rule")
        return self


class ClusterSettings(_Strict):
    window_days: int = Field(90, ge=7)
    method: Literal["kmeans", "gmm"] = "kmeans"
    k_min: int = Field(2, ge=2)
    k_max: int = Field(6, ge=2, le=12)
    seed: int = 7
    min_customers: int = Field(50, ge=10)
    silhouette_sample: int = Field(3000, ge=100)
    fit_sample: int = Field(50_000, ge=1000)
    """With more active customers, each candidate model is fitted on a seeded
    sample of this many and every customer is assigned to its nearest
    cluster (a million customers otherwise cost minutes per period)."""

    @model_validator(mode="after")
    def _k_order(self) -> "ClusterSettings":
        if self.k_min > self.k_max:
            raise ValueError(f"k_min ({self.k_min}) is larger than k_max ({self.k_max})")
        return self


class LifecycleSettings(_Strict):
    new_days: int = Field(30, ge=1)
    at_risk_days: int = Field(30, ge=1)
    dormant_days: int = Field(60, ge=1)
    reactivated_days: int = Field(30, ge=1)

    @model_validator(mode="after")
    def _order(self) -> "LifecycleSettings":
        if not self.at_risk_days < self.dormant_days:
            raise ValueError(f"at_risk_days ({self.at_risk_days}) must be less than dormant_days ({self.dormant_days})")
        return self


def unreachable_states(lc: LifecycleSettings, churn_inactivity_days: int) -> tuple[str, ...]:
    """The lifecycle states no customer can be in under these settings, in
    state order: ``dormant`` when ``lc.dormant_days`` is at or above
    ``definitions.churn_inactivity_days`` (a customer silent that long has
    churned: the dormant window [dormant_days, churn_inactivity_days) is
    empty), and ``at_risk`` too when ``lc.at_risk_days`` is. Not an error
    (lowering ``churn_inactivity_days`` alone is a common override): the
    segmentation section warns about it next to the lifecycle table."""
    return tuple(state for state, days in (("at_risk", lc.at_risk_days), ("dormant", lc.dormant_days))
                 if days >= churn_inactivity_days)


class HealthWeights(_Strict):
    usage_trend: float = Field(0.15, ge=0)
    recency: float = Field(0.15, ge=0)
    engagement: float = Field(0.30, ge=0)
    tickets: float = Field(0.10, ge=0)
    nps_csat: float = Field(0.15, ge=0)
    payment_failures: float = Field(0.05, ge=0)
    subscription: float = Field(0.10, ge=0)

    @model_validator(mode="after")
    def _positive(self) -> "HealthWeights":
        if sum(self.model_dump().values()) <= 0:
            raise ValueError("at least one health weight must be above 0")
        return self


class HealthSettings(_Strict):
    weights: HealthWeights = HealthWeights()
    healthy_min: float = Field(70, gt=0, le=100)
    unhealthy_below: float = Field(40, ge=0, lt=100)
    usage_recent_days: int = Field(28, ge=7)
    usage_baseline_days: int = Field(56, ge=7)
    tickets_days: int = Field(90, ge=7)
    payments_days: int = Field(90, ge=7)
    survey_days: int = Field(365, ge=7)
    trend_months: int = Field(6, ge=2, le=24)

    @model_validator(mode="after")
    def _bands(self) -> "HealthSettings":
        if self.unhealthy_below > self.healthy_min:
            raise ValueError(f"unhealthy_below ({self.unhealthy_below}) is above healthy_min ({self.healthy_min})")
        return self


class PlaybookRule(_Strict):
    """One action and whom it targets. Selectors combine with AND; the
    values listed inside one selector with OR; an empty selector is not a
    condition."""

    action: str = Field(pattern=_KEY)
    label: str | None = None
    timing: str | None = None
    timing_days: int | None = Field(None, ge=0)
    rfm: tuple[str, ...] = ()
    bands: tuple[Literal["healthy", "at_risk", "unhealthy"], ...] = ()
    states: tuple[Literal["new", "active", "reactivated", "at_risk", "dormant", "churned"], ...] = ()
    buyer: bool | None = None
    signup_within_days: int | None = Field(None, ge=1)
    renewal_within_days: int | None = Field(None, ge=1)
    inactive_max_days: int | None = Field(None, ge=1)


DEFAULT_PLAYBOOKS = (
    PlaybookRule(action="welcome_guide", states=("new",), timing_days=1),
    PlaybookRule(action="activation", states=("new",), buyer=False, signup_within_days=30, timing_days=30),
    PlaybookRule(action="recommendations", rfm=("champions", "loyal", "potential_loyalists"), timing_days=30),
    PlaybookRule(action="renewal_contact", renewal_within_days=90, timing_days=90),
    PlaybookRule(action="rescue_unhealthy", bands=("unhealthy",), timing_days=7),
    PlaybookRule(action="winback_at_risk", states=("at_risk", "dormant"), timing_days=7),
    PlaybookRule(action="winback_churned", states=("churned",), inactive_max_days=365, timing_days=30),
)


class SegmentationSettings(_Strict):
    """The validated ``segmentation:`` block of a client file (see the
    module docstring for every key and its default)."""

    rfm: RFMSettings = RFMSettings()
    clusters: ClusterSettings = ClusterSettings()
    lifecycle: LifecycleSettings = LifecycleSettings()
    health: HealthSettings = HealthSettings()
    playbooks: tuple[PlaybookRule, ...] = DEFAULT_PLAYBOOKS

    @model_validator(mode="after")
    def _known_segments(self) -> "SegmentationSettings":
        known = {s.segment for s in self.rfm.segments}
        for p in self.playbooks:
            bad = [s for s in p.rfm if s not in known]
            if bad:
                raise ValueError(f"playbook {p.action!r} targets unknown RFM segment(s) {bad}; "
                                 f"segments: {', '.join(sorted(known))}")
        return self


# --------------------------------------------------------------------------
# Prediction (section 70)
# --------------------------------------------------------------------------

class GBMSettings(_Strict):
    """Gradient boosting: modest, fixed hyperparameters (no search on the test window)."""

    max_iter: int = Field(150, ge=10, le=2000)
    learning_rate: float = Field(0.05, gt=0, le=1)
    max_depth: int = Field(3, ge=1, le=12)
    min_samples_leaf: int = Field(20, ge=1)
    l2_regularization: float = Field(1.0, ge=0)
    max_bins: int = Field(32, ge=4, le=255)
    """Coarse bins: enough for a few thousand customers, and fast with class weights."""


class LogisticSettings(_Strict):
    """Logistic-regression baseline (standardized features, L2 penalty)."""

    C: float = Field(1.0, gt=0)
    max_iter: int = Field(2000, ge=100)


class PredictionSettings(_Strict):
    """The ``prediction:`` block of a client file, with every default."""

    horizon_days: int = Field(60, ge=7, le=365)
    """H: the label window after a cutoff, in days, of the promoter and upsell
    models (churn's is definitions.churn_inactivity_days: its label is the churn definition)."""
    churn_label: Literal["activity", "purchase"] = "activity"
    """Churn means no activity (events or orders) or no purchase in the H days after the cutoff."""
    lookback_days: int | None = Field(None, ge=7, le=730)
    """Promoter and upsell: a customer is live at a cutoff with activity in this many days before it;
    default churn_inactivity_days (always so for churn: it scores the customers not churned)."""
    promoter_score: int = Field(9, ge=0, le=10)
    """An NPS answer at or above this is a promoter."""
    upsell_uplift: float = Field(0.0, ge=0)
    """Upsell: spend above (1 + uplift) × the customer's baseline spend per H days."""
    upsell_baseline_days: int = Field(365, ge=30, le=1095)
    """The baseline is measured over at most this many days before the cutoff."""
    min_positives: int = Field(20, ge=2)
    """A model needs this many positives (and negatives) to train, and half as many to be evaluated."""
    model: Literal["auto", "gbm", "logistic"] = "auto"
    """The model that scores customers (the other is shown as the baseline); ``auto`` picks the one
    with the higher ROC AUC on a seeded stratified holdout of the training window
    (``choice_holdout``; 5-fold cross-validation on a small window), never the test window."""
    choice_holdout: float = Field(0.25, ge=0.1, le=0.5)
    """``auto``: the share of the training customers held out to compare the two models
    (both are fitted on the rest)."""
    choice_holdout_min_class: int = Field(100, ge=10)
    """``auto`` uses the holdout when it holds at least this many customers of each class;
    with fewer, the two models are compared by 5-fold cross-validation."""
    class_weight: Literal["balanced", "none"] = "balanced"
    seed: int = 7
    risk_bands: tuple[float, float] = (0.3, 0.6)
    """Probability thresholds between the low / medium / high bands."""
    top_share: float = Field(0.1, gt=0, le=0.5)
    """The target lists hold this share of the scored customers, highest first."""
    max_fit_rows: int = Field(100_000, ge=100)
    """A window with more customers is fitted on a seeded sample of this many
    with its class shares; evaluation and scoring still use every customer."""
    max_choice_rows: int = Field(20_000, ge=100)
    """``auto`` compares the models (:attr:`choice_holdout`) on a seeded sample of
    at most this many training customers."""
    max_importance_rows: int = Field(5_000, ge=100)
    """Permutation importance is measured on a seeded stratified sample of at
    most this many test customers. Measured on the demo's churn model (7,634
    test customers, 5 samples each): at 5,000 the top-5 features and the order
    of every pair the full window separates by more than 2 sd are as stable as
    the full window's own reshuffles (Spearman 0.973 on the top 10, like the
    full window's); at 4,000 one sample in five swaps a top-5 feature."""
    bootstrap_samples: int = Field(1000, ge=100, le=20_000)
    """Resamples of the test window behind the intervals on ROC AUC (seeded)."""
    min_auc_gain: float = Field(0.02, ge=0, le=0.5)
    """A model's lists and advice are shown only when its test ROC AUC beats
    the one-feature rule's by at least this much, the 95% bootstrap interval
    of the gain is above 0 and the model's own interval is above 0.5."""
    gbm: GBMSettings = Field(default_factory=GBMSettings)
    logistic: LogisticSettings = Field(default_factory=LogisticSettings)

    @model_validator(mode="after")
    def _bands_increase(self) -> "PredictionSettings":
        lo, hi = self.risk_bands
        if not 0 < lo < hi < 1:
            raise ValueError("risk_bands must be two probabilities, 0 < low < high < 1")
        return self


# --------------------------------------------------------------------------
# Experiments (section 55)
# --------------------------------------------------------------------------

class ExperimentPlan(_Strict):
    """One planned experiment of the ``experiments:`` block (see the module
    docstring): how it was meant to split its users, the smallest lift it
    was sized to detect, when it started, and how its monthly looks share
    the significance level."""

    allocation: dict[str, float] | None = None
    """Variant (as named in the experiments table) -> planned share of the
    assignments, each above 0, summing to 1. ``None``: an equal split of
    the variants found. The sample-ratio check tests against it; a planned
    variant without assignments, or an assigned variant not in it, is a
    mismatch."""
    mde: float | None = Field(None, gt=0, le=0.5)
    """Minimum detectable effect: the smallest absolute lift of the
    conversion rate (0–1 points, 0.02 = +2 pp) the test is sized to detect
    with 80 % power; it sets the users each arm needs. ``None``:
    ``definitions.experiment_mde``."""
    started: dt.date | None = None
    """The first day of the experiment (in the client's time zone):
    assignments before it are not read, e.g. after a restart that fixed the
    assignment. ``None``: from its first assignment."""
    spending: Literal["obrien_fleming", "pocock"] = "obrien_fleming"
    """How the monthly looks at the test share the 5 % significance level
    (Lan–DeMets alpha spending): ``obrien_fleming`` asks early looks for
    overwhelming evidence and keeps the last close to p < 0.05; ``pocock``
    asks the same of every look."""

    @field_validator("allocation", mode="before")
    @classmethod
    def _variant_names(cls, v: Any) -> Any:
        # YAML 1.1 reads an unquoted yes / no / on / off as a boolean
        if isinstance(v, dict):
            for k in v:
                if isinstance(k, bool):
                    word = "yes" if k else "no"
                    raise ValueError(f"the variant name {word} (or {'on' if k else 'off'}) was read as "  # noqa: TRY004
                                     f"{str(k).lower()}: YAML reads an unquoted no, yes, on or off as true/false; "
                                     f"put the name in quotes, e.g. '{word}': {v[k]}")
            return {str(k): x for k, x in v.items()}
        return v

    @field_validator("allocation")
    @classmethod
    def _shares(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        if v is None:
            return v
        if len(v) < 2:
            raise ValueError(f"an allocation needs at least two variants, got {sorted(v)}")
        bad = {k: x for k, x in v.items() if not 0 < x < 1}
        if bad:
            raise ValueError(f"each planned share must be between 0 and 1 (exclusive): {bad}")
        total = sum(v.values())
        if abs(total - 1) > 1e-3:
            raise ValueError(f"the planned shares sum to {total:g}; they must sum to 1 "
                             f"(e.g. {{control: 0.9, treatment: 0.1}})")
        return v
