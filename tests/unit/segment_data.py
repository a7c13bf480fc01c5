"""The customers, orders, tickets, surveys and subscriptions that
tests/unit/test_segments.py, test_health.py and test_segmentation_shapes.py
work their expected values out on."""

import pandas as pd

# Period 2026-10: end = 2026-11-01 00:00; comparison end = 2026-10-01 00:00.
# RFM window: 365 days before the end = from 2025-11-01.
CUSTOMERS = pd.DataFrame([
    ("A", "2025-01-01 00:00:00"),
    ("B", "2025-06-01 00:00:00"),
    ("C", "2026-10-20 00:00:00"),   # new: 12 days before the end
    ("D", "2025-01-01 00:00:00"),
    ("E", "2025-01-01 00:00:00"),
], columns=["customer_id", "signup_at"])

ORDERS = pd.DataFrame([
    ("a1", "A", "2026-03-01 00:00:00", 50, "paid"),
    ("a2", "A", "2026-09-01 12:00:00", 200, "paid"),
    ("a3", "A", "2026-10-19 00:00:00", 100, "failed"),   # not a paid order, but activity
    ("a4", "A", "2026-10-20 00:00:00", 100, "paid"),
    ("b1", "B", "2026-06-15 00:00:00", 30, "paid"),
    ("d1", "D", "2025-10-01 00:00:00", 80, "paid"),      # before the RFM window
    ("e1", "E", "2026-01-05 00:00:00", 10, "paid"),
    ("e2", "E", "2026-10-25 00:00:00", 40, "paid"),      # back after 293 silent days
], columns=["order_id", "customer_id", "ordered_at", "amount", "payment_status"])

TICKETS = pd.DataFrame([
    ("t1", "A", "2026-09-10 00:00:00", None),
    ("t2", "A", "2026-10-10 00:00:00", None),
    ("t3", "E", "2026-05-01 00:00:00", None),   # more than 90 days before the end: not a health ticket
], columns=["ticket_id", "customer_id", "created_at", "csat"])

SURVEYS = pd.DataFrame([
    ("r1", "A", "2026-10-01 00:00:00", 3, 2),
    ("r2", "E", "2026-06-01 00:00:00", 10, None),
    ("r3", "E", "2026-10-28 00:00:00", 8, None),    # E's latest answer
], columns=["response_id", "customer_id", "responded_at", "nps", "csat"])

SUBSCRIPTIONS = pd.DataFrame([
    ("s1", "A", "2026-09-21 00:00:00", "2026-10-05 00:00:00", "trial", 0),   # ended 27 days before the end
    ("s2", "E", "2026-10-10 00:00:00", None, "basic", 9900),                # paid, running
], columns=["subscription_id", "customer_id", "started_at", "ended_at", "plan", "mrr"])
