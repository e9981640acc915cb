"""Villages: the official classifier, rollout state, social objects, search and followers."""
