"""Next-best-offer: co-purchase rules, candidates, eligibility, ranking with reasons."""
