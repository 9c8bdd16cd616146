"""Distributions: plans, rounds, exact entitlements, escrow for claims that cannot be paid yet.

``model`` holds the plan and round values and the rules of a round; ``interest`` the exact
post-petition interest; ``compute`` the vectorised round (the preview); ``payees`` who is paid
(holder of record, escrow reasons); ``machine`` the events' ladders (decide, check, evolve) and
``state`` what they keep. See each module's docstring.
"""
