"""Section 60_segmentation: RFM segments, value tiers, lifecycle states,
behavioural clusters, experience segments, health score and playbooks
(numbers in :mod:`.compute` and the modules it names; what the notebook
shows in :mod:`.view` and :mod:`.view_health`)."""
