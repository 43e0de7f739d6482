"""The reference gateway: policy, router, upstream client, fallbacks, breaker, budget, prices, cache, admin."""
